"""The composition root: settings in, a running shop out (database, runtime, sender, jobs)."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.intake import Intake, UpdateSource
from bot.log_hygiene import cap_library_loggers
from bot.outbox_worker import OutboxWorker
from bot.scheduler import build_scheduler, keep_books
from bot.sender import Limits, OutgoingSender, PermanentSendError
from bot.telegram_port import NO_CHAT, ActionExecutor, TelegramPort
from bot.trace_cli import optional_signer
from config.settings import Settings
from faq.knowledge import DEFAULT_DIRECTORY, KnowledgeBase, load_knowledge_base
from faq.matcher import FaqMatcher
from handlers.command_menu import command_list, staff_commands
from handlers.context import ShopContext
from handlers.event import Event
from handlers.router import busy_reply, dispatch
from handlers.start import bot_profile
from store.adapters.card_key_cipher import CardKeyCipher
from store.adapters.database import open_migrated
from store.adapters.unit_of_work import UnitOfWorkFactory
from store.domain.case import ReplacementRules
from store.domain.clock import Clock, SystemClock
from store.domain.errors import RefundFailed
from store.domain.ledger import EscrowRules
from store.domain.model import Language
from store.domain.order import HoldRules
from store.domain.payment import TopupRules
from store.domain.refund import RefundRules
from store.domain.shop_time import ShopTime, parse_support_hours
from store.domain.supplier import SellOrder, SupplierRules
from store.domain.support import SupportRules
from store.services.provenance import backfill_provenance

log = logging.getLogger(__name__)
Runtime = Literal["aiogram", "ptb"]
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


class BotNotRunning(ConnectionError):
    """Telegram cannot be asked yet: the refund waits (it is not refused)."""


class PortRefunder:
    """refundStarPayment through the runtime's port and the sender (which retries 429s and
    network errors); a charge already refunded counts as done, a refusal is `RefundFailed`,
    and anything else leaves the refund pending for the job."""

    def __init__(self, sender: OutgoingSender) -> None:
        self.port: TelegramPort | None = None
        self._sender = sender

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        port = self.port
        if port is None:
            raise BotNotRunning("the bot is not running")
        try:
            await self._sender.send(
                NO_CHAT, lambda: port.refund_star_payment(user_id, charge_id), counts=False
            )
        except PermanentSendError as error:
            if ALREADY_REFUNDED in str(error):
                return
            raise RefundFailed(str(error)) from error


def load_faq(settings: Settings) -> tuple[KnowledgeBase, FaqMatcher]:
    """The knowledge base (FAQ_DIR, else the shipped one) and its matcher, built once."""
    knowledge = load_knowledge_base(
        Path(settings.FAQ_DIR) if settings.FAQ_DIR else DEFAULT_DIRECTORY
    )
    return knowledge, FaqMatcher.from_knowledge_base(knowledge)


def supplier_rules(settings: Settings) -> SupplierRules:
    """The suppliers' standing rules and sell order, which every unit of work carries."""
    return SupplierRules(
        window_days=settings.SUPPLIER_WINDOW_DAYS,
        max_invalid_rate=settings.SUPPLIER_MAX_INVALID_RATE,
        min_sample=settings.SUPPLIER_MIN_SAMPLE,
        min_deposit_minor=settings.SUPPLIER_MIN_DEPOSIT,
        sell_order=SellOrder(settings.SELL_ORDER),
    )


def escrow_rules(settings: Settings) -> EscrowRules:
    return EscrowRules(
        refund_window_days=settings.REFUND_WINDOW_DAYS, margin_days=settings.ESCROW_MARGIN_DAYS
    )


def build_context(
    settings: Settings, engine: AsyncEngine, *, clock: Clock, refunder: PortRefunder
) -> ShopContext:
    knowledge, matcher = load_faq(settings)
    return ShopContext(
        uow=UnitOfWorkFactory(engine, supplier_rules(settings)),
        clock=clock,
        cipher=CardKeyCipher(settings.card_key_secrets()),
        refunder=refunder,
        hold=HoldRules(
            minutes=settings.RESERVATION_MINUTES, max_open=settings.MAX_OPEN_RESERVATIONS
        ),
        topup=TopupRules(
            star_value_minor=settings.STAR_VALUE_MINOR, allowed_stars=settings.TOPUP_STARS
        ),
        refund=RefundRules(window_days=settings.REFUND_WINDOW_DAYS),
        escrow=escrow_rules(settings),
        admin_ids=frozenset(settings.ADMIN_IDS),
        shop_name=settings.SHOP_NAME,
        currency=settings.SHOP_CURRENCY,
        support_contact=settings.SUPPORT_CONTACT,
        agent_ids=frozenset(settings.AGENT_IDS),
        support=SupportRules(
            capacity=settings.AGENT_CAPACITY,
            first_response_minutes=settings.FIRST_RESPONSE_MINUTES,
            next_response_minutes=settings.NEXT_RESPONSE_MINUTES,
        ),
        replacement=ReplacementRules(
            enabled=settings.REPLACE_AUTOMATICALLY,
            within_hours=settings.REPLACE_WITHIN_HOURS,
            cooldown_days=settings.REPLACE_COOLDOWN_DAYS,
            max_order_minor=settings.REPLACE_MAX_ORDER_MINOR,
        ),
        shop_time=ShopTime(
            zone=settings.SHOP_TIMEZONE, hours=parse_support_hours(settings.SUPPORT_HOURS)
        ),
        knowledge=knowledge,
        faq=matcher,
        trace_signer=optional_signer(settings),
        trace_origin=settings.TRACE_ORIGIN,
    )


async def open_database(settings: Settings) -> AsyncEngine:
    return await open_migrated(settings.DATABASE_URL)


async def with_database(
    settings: Settings, work: Callable[[UnitOfWorkFactory], Awaitable[int]]
) -> int:
    """Run an admin command's work on the migrated database, and close it after."""
    engine = await open_database(settings)
    try:
        return await work(UnitOfWorkFactory(engine, supplier_rules(settings)))
    finally:
        await engine.dispose()


class KamibotApp:
    """One running bot on one runtime; `start()` returns once it is polling."""

    def __init__(
        self,
        settings: Settings,
        *,
        runtime: Runtime = "aiogram",
        clock: Clock | None = None,
        limits: Limits | None = None,
        with_scheduler: bool = True,
    ) -> None:
        cap_library_loggers()
        self.settings = settings
        self.runtime = runtime
        self.clock = clock or SystemClock()
        self.sender = OutgoingSender(limits or Limits())
        self.refunder = PortRefunder(self.sender)
        self.with_scheduler = with_scheduler
        self._tasks: list[asyncio.Task[None]] = []
        self._polling: asyncio.Task[None] | None = None
        self.port: TelegramPort

    async def start(self) -> None:
        """Open the database, settle what a previous run left, then start polling.

        Start-up order matters after a crash: the runtime first (the port is needed to ask
        Telegram anything), then updates recorded but not handled, then reconciliation with
        Telegram's record of payments and the outbox, and only then new updates.
        """
        self.engine = await open_database(self.settings)
        self.ctx = build_context(
            self.settings, self.engine, clock=self.clock, refunder=self.refunder
        )
        token = self.settings.token()
        base = self.settings.TELEGRAM_API_BASE
        if self.runtime == "aiogram":
            source = await self._start_aiogram(token, base)
        else:
            source = await self._start_ptb(token, base)
        self.refunder.port = self.port
        self.executor = ActionExecutor(self.port, self.sender)
        self.outbox = OutboxWorker(self.ctx, self.executor)
        self.intake = Intake(
            source,
            new_uow=self.ctx.uow,
            cipher=self.ctx.cipher,
            now=self.clock.now,
            handle=self.handle,
            give_up=self.apologise,
        )
        await self.port.delete_webhook()
        for language in Language:
            if language.telegram_code:
                await self.port.set_commands(command_list(language), language.telegram_code)
        await self.port.set_commands(command_list(Language.EN), None)
        await self._describe_bot()
        await self.executor.perform(await staff_commands(self.ctx))  # agents' and admins' menus
        self._tasks.append(asyncio.create_task(self.outbox.run(), name="outbox"))
        if await self.intake.resume():  # let them settle first: their charges are not lost
            await self.intake.settled(timeout=30.0)
        await keep_books(self.ctx, self.port, self.outbox)
        await backfill_provenance(self.ctx.uow, self.ctx.cipher, self.clock.now())
        self.outbox.wake()  # deliver whatever a previous run left pending
        self._polling = asyncio.create_task(self.intake.poll(), name="polling")
        if self.with_scheduler:
            self.scheduler = build_scheduler(
                self.ctx,
                self.outbox,
                self.port,
                self.intake,
                books_seconds=self.settings.RECONCILE_SECONDS,
                trace=(self.settings, self.ctx.trace_signer) if self.ctx.trace_signer else None,
            )
            self.scheduler.start()
        log.info("Kamibot is running on %s against %s", self.runtime, base)

    async def _describe_bot(self) -> None:
        """What a new chat shows before /start, in each language (English by default).

        Not worth failing start-up over: a server without these methods gets one log line.
        """
        profiles = [(language.telegram_code, language) for language in Language]
        profiles = [(code, language) for code, language in profiles if code] + [(None, Language.EN)]
        for code, language in profiles:
            description, short = bot_profile(language, self.settings.SHOP_NAME)
            try:
                await self.port.set_description(description, short, code)
            except PermanentSendError as error:
                log.warning("the bot's description was not set (%s); chats open without it", error)
                return

    async def handle(self, event: Event) -> None:
        """One update: the conversation decides, the executor sends, the outbox is nudged.

        A busy database raises StoreBusy out of here: the intake keeps the update and retries.
        """
        actions = await dispatch(event, self.ctx)
        try:
            await self.executor.perform(actions)
        finally:
            self.outbox.wake()

    async def apologise(self, event: Event) -> None:
        """The database stayed busy for this update: say so rather than say nothing."""
        await self.executor.perform(busy_reply(event))

    async def _start_aiogram(self, token: str, base: str) -> UpdateSource:
        from bot.aiogram_runtime import AiogramPort, AiogramUpdates, build_bot

        self._bot = build_bot(token, base)
        self.port = AiogramPort(self._bot)
        return AiogramUpdates(self._bot)

    async def _start_ptb(self, token: str, base: str) -> UpdateSource:
        from bot.ptb_runtime import PtbPort, PtbUpdates, build_application

        self._application = build_application(token, base)
        await self._application.initialize()
        self.port = PtbPort(self._application)
        return PtbUpdates(self._application)

    async def stop(self) -> None:
        if self.with_scheduler and hasattr(self, "scheduler"):
            self.scheduler.shutdown(wait=False)
        if self._polling is not None:  # first stop taking updates, then finish those under way
            self._polling.cancel()
            with suppress(asyncio.CancelledError):
                await self._polling
            self._polling = None
        if hasattr(self, "intake"):
            await self.intake.drain(timeout=10.0)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.runtime == "aiogram":
            await self._bot.session.close()
        else:
            await self._application.shutdown()
        await self.engine.dispose()


async def until_interrupted() -> None:
    """Wait for Ctrl+C or SIGTERM (how `run` and `demo` are stopped)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
