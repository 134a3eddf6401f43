"""The composition root: settings in, a running shop out (database, runtime, sender, jobs)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery import DeliveryWorker
from bot.log_hygiene import cap_library_loggers
from bot.scheduler import build_scheduler
from bot.sender import Limits, OutgoingSender, PermanentSendError
from bot.telegram_port import ActionExecutor, TelegramPort
from config.settings import Settings
from faq.knowledge import DEFAULT_DIRECTORY, KnowledgeBase, load_knowledge_base
from faq.matcher import FaqMatcher
from handlers.context import ShopContext
from handlers.event import Event
from handlers.router import dispatch
from handlers.start import command_list
from store.card_key_cipher import CardKeyCipher
from store.clock import Clock, SystemClock
from store.database import create_engine
from store.migration import upgrade
from store.model import Language
from store.service.case import ReplacementRules
from store.service.order import HoldRules
from store.service.payment import TopupRules
from store.service.refund import RefundFailed, RefundRules
from store.service.ticket import SupportRules
from store.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)
Runtime = Literal["aiogram", "ptb"]
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


class PortRefunder:
    """refundStarPayment through the runtime's port; a charge already refunded counts as done."""

    def __init__(self) -> None:
        self.port: TelegramPort | None = None

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        if self.port is None:
            raise RefundFailed("the bot is not running")
        try:
            await self.port.refund_star_payment(user_id, charge_id)
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


def build_context(
    settings: Settings, engine: AsyncEngine, *, clock: Clock, refunder: PortRefunder
) -> ShopContext:
    knowledge, matcher = load_faq(settings)
    return ShopContext(
        uow=UnitOfWorkFactory(engine),
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
        support_hours=settings.SUPPORT_HOURS,
        knowledge=knowledge,
        faq=matcher,
    )


async def open_database(settings: Settings) -> AsyncEngine:
    engine = create_engine(settings.DATABASE_URL)
    await upgrade(engine)
    return engine


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
        self.refunder = PortRefunder()
        self.with_scheduler = with_scheduler
        self._tasks: list[asyncio.Task[None]] = []
        self.port: TelegramPort

    async def start(self) -> None:
        self.engine = await open_database(self.settings)
        self.ctx = build_context(
            self.settings, self.engine, clock=self.clock, refunder=self.refunder
        )
        token = self.settings.token()
        base = self.settings.TELEGRAM_API_BASE
        if self.runtime == "aiogram":
            await self._start_aiogram(token, base)
        else:
            await self._start_ptb(token, base)
        self.refunder.port = self.port
        self.executor = ActionExecutor(self.port, self.sender)
        self.delivery = DeliveryWorker(self.ctx, self.executor)
        for language in Language:
            await self.port.set_commands(command_list(language), language.value)
        await self.port.set_commands(command_list(Language.EN), None)
        self._tasks.append(asyncio.create_task(self.delivery.run(), name="outbox"))
        self.delivery.wake()  # deliver whatever a previous run left pending
        if self.with_scheduler:
            self.scheduler = build_scheduler(self.ctx, self.delivery)
            self.scheduler.start()
        log.info("Kamibot is running on %s against %s", self.runtime, base)

    async def handle(self, event: Event) -> None:
        """One update: the conversation decides, the executor sends, the outbox is nudged."""
        actions = await dispatch(event, self.ctx)
        try:
            await self.executor.perform(actions)
        finally:
            self.delivery.wake()

    async def _start_aiogram(self, token: str, base: str) -> None:
        from bot.aiogram_runtime import AiogramPort, build_bot, build_dispatcher, run_polling

        self._bot = build_bot(token, base)
        self._dispatcher = build_dispatcher(self._bot, self.handle)
        self.port = AiogramPort(self._bot)
        self._tasks.append(
            asyncio.create_task(run_polling(self._bot, self._dispatcher), name="polling")
        )

    async def _start_ptb(self, token: str, base: str) -> None:
        from bot.ptb_runtime import PtbPort, build_application

        self._application = build_application(token, base, self.handle)
        await self._application.initialize()
        await self._application.start()
        assert self._application.updater is not None
        await self._application.updater.start_polling()
        self.port = PtbPort(self._application)

    async def stop(self) -> None:
        if self.with_scheduler and hasattr(self, "scheduler"):
            self.scheduler.shutdown(wait=False)
        if self.runtime == "aiogram":
            with suppress(RuntimeError):
                await self._dispatcher.stop_polling()
        else:
            assert self._application.updater is not None
            await self._application.updater.stop()
            await self._application.stop()
            await self._application.shutdown()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        if self.runtime == "aiogram":
            await self._bot.session.close()
        await self.engine.dispose()
