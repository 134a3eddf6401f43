"""Support tickets, their messages, and response-target breaches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store.adapters.repositories.upsert import insert_ignoring_conflict
from store.adapters.tables import response_breaches, ticket_messages, tickets
from store.domain.clock import as_utc, as_utc_or_none
from store.domain.model import Ticket, TicketMessage, TicketPriority, TicketStatus
from store.domain.support import ResponseTarget

OPEN = (TicketStatus.QUEUED.value, TicketStatus.ASSIGNED.value)


def _ticket(row: Any) -> Ticket:
    return Ticket(
        id=row.id,
        user_id=row.user_id,
        status=TicketStatus(row.status),
        priority=TicketPriority(row.priority),
        kind=row.kind,
        case_id=row.case_id,
        agent_id=row.agent_id,
        subject=row.subject,
        created_at=as_utc(row.created_at),
        assigned_at=as_utc_or_none(row.assigned_at),
        first_response_at=as_utc_or_none(row.first_response_at),
        waiting_since=as_utc_or_none(row.waiting_since),
        closed_at=as_utc_or_none(row.closed_at),
        rating=row.rating,
        queue_message_id=row.queue_message_id,
    )


class SqlTicketRepository:
    def __init__(self, connection: AsyncConnection, dialect: str) -> None:
        self._c = connection
        self._dialect = dialect

    async def add(
        self,
        *,
        user_id: int,
        priority: TicketPriority,
        kind: str,
        subject: str,
        created_at: datetime,
        case_id: int | None = None,
        status: TicketStatus = TicketStatus.QUEUED,
        waiting_since: datetime | None = None,
    ) -> int:
        """A new ticket; `subject` comes sealed, cut by the service to fit the column."""
        result = await self._c.execute(
            insert(tickets)
            .values(
                user_id=user_id,
                status=status.value,
                priority=int(priority),
                kind=kind,
                case_id=case_id,
                subject=subject,
                created_at=created_at,
                waiting_since=waiting_since,
            )
            .returning(tickets.c.id)
        )
        return int(result.scalar_one())

    async def get(self, ticket_id: int) -> Ticket | None:
        row = (await self._c.execute(select(tickets).where(tickets.c.id == ticket_id))).first()
        return _ticket(row) if row else None

    async def open_for_user(self, user_id: int) -> Ticket | None:
        row = (
            await self._c.execute(
                select(tickets)
                .where(and_(tickets.c.user_id == user_id, tickets.c.status.in_(OPEN)))
                .order_by(tickets.c.id.desc())
                .limit(1)
            )
        ).first()
        return _ticket(row) if row else None

    async def for_user(self, user_id: int, limit: int) -> list[Ticket]:
        rows = await self._c.execute(
            select(tickets)
            .where(tickets.c.user_id == user_id)
            .order_by(tickets.c.id.desc())
            .limit(limit)
        )
        return [_ticket(r) for r in rows]

    async def queued(self, limit: int | None = None) -> list[Ticket]:
        """The queue in serving order: priority, then age."""
        query = (
            select(tickets)
            .where(tickets.c.status == TicketStatus.QUEUED)
            .order_by(tickets.c.priority, tickets.c.created_at, tickets.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_ticket(r) for r in await self._c.execute(query)]

    async def place_in_queue(self, ticket: Ticket) -> int:
        """1 for the next ticket to be served: how many queued tickets come before it, plus one."""
        ahead = or_(
            tickets.c.priority < int(ticket.priority),
            and_(
                tickets.c.priority == int(ticket.priority),
                or_(
                    tickets.c.created_at < ticket.created_at,
                    and_(tickets.c.created_at == ticket.created_at, tickets.c.id < ticket.id),
                ),
            ),
        )
        count = select(func.count()).where(and_(tickets.c.status == TicketStatus.QUEUED, ahead))
        return int((await self._c.execute(count)).scalar_one()) + 1

    async def assigned_to(self, agent_id: int) -> list[Ticket]:
        rows = await self._c.execute(
            select(tickets)
            .where(and_(tickets.c.agent_id == agent_id, tickets.c.status == TicketStatus.ASSIGNED))
            .order_by(tickets.c.id)
        )
        return [_ticket(r) for r in rows]

    async def assign(self, ticket_id: int, agent_id: int, now: datetime) -> bool:
        """Give a queued ticket to an agent; false if someone else took it first."""
        result = await self._c.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket_id, tickets.c.status == TicketStatus.QUEUED))
            .values(status=TicketStatus.ASSIGNED.value, agent_id=agent_id, assigned_at=now)
        )
        return result.rowcount == 1

    async def requeue(self, ticket_id: int) -> bool:
        result = await self._c.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket_id, tickets.c.status == TicketStatus.ASSIGNED))
            # a new queue message: the one from before, if any, is far up the buyer's chat
            .values(
                status=TicketStatus.QUEUED.value,
                agent_id=None,
                assigned_at=None,
                queue_message_id=None,
            )
        )
        return result.rowcount == 1

    async def reassign(self, ticket_id: int, from_agent: int, to_agent: int, now: datetime) -> bool:
        result = await self._c.execute(
            update(tickets)
            .where(
                and_(
                    tickets.c.id == ticket_id,
                    tickets.c.status == TicketStatus.ASSIGNED,
                    tickets.c.agent_id == from_agent,
                )
            )
            .values(agent_id=to_agent, assigned_at=now)
        )
        return result.rowcount == 1

    async def close(self, ticket_id: int, now: datetime) -> bool:
        result = await self._c.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket_id, tickets.c.status.in_(OPEN)))
            .values(status=TicketStatus.CLOSED.value, closed_at=now, waiting_since=None)
        )
        return result.rowcount == 1

    async def raise_priority(
        self, ticket_id: int, priority: TicketPriority, kind: str, case_id: int | None
    ) -> None:
        """A waiting question becomes (say) a bad-key case: served sooner, about the case."""
        await self._c.execute(
            update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(priority=int(priority), kind=kind, case_id=case_id)
        )

    async def set_queue_message(self, ticket_id: int, message_id: int) -> None:
        """The message that shows the buyer their place in the queue, edited as it moves."""
        await self._c.execute(
            update(tickets).where(tickets.c.id == ticket_id).values(queue_message_id=message_id)
        )

    async def mark_agent_response(self, ticket_id: int, now: datetime) -> None:
        """An agent answered: the first response is recorded once; the buyer waits no more."""
        await self._c.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket_id, tickets.c.first_response_at.is_(None)))
            .values(first_response_at=now)
        )
        await self._c.execute(
            update(tickets).where(tickets.c.id == ticket_id).values(waiting_since=None)
        )

    async def mark_buyer_waiting(self, ticket_id: int, now: datetime) -> None:
        """The buyer wrote: the next-response clock starts, unless it is already running."""
        await self._c.execute(
            update(tickets)
            .where(and_(tickets.c.id == ticket_id, tickets.c.waiting_since.is_(None)))
            .values(waiting_since=now)
        )

    async def rate(self, ticket_id: int, user_id: int, rating: int) -> bool:
        result = await self._c.execute(
            update(tickets)
            .where(
                and_(
                    tickets.c.id == ticket_id,
                    tickets.c.user_id == user_id,
                    tickets.c.status == TicketStatus.CLOSED,
                    tickets.c.rating.is_(None),
                )
            )
            .values(rating=rating)
        )
        return result.rowcount == 1

    async def add_message(
        self,
        *,
        ticket_id: int,
        sender: str,
        author_id: int,
        body: str,
        created_at: datetime,
        relayed: bool = False,
        media: str | None = None,
        source_chat_id: int | None = None,
        source_message_id: int | None = None,
    ) -> int:
        """A message in a ticket; `body` comes sealed."""
        result = await self._c.execute(
            insert(ticket_messages)
            .values(
                ticket_id=ticket_id,
                sender=sender,
                author_id=author_id,
                body=body,
                media=media,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                relayed=relayed,
                created_at=created_at,
            )
            .returning(ticket_messages.c.id)
        )
        return int(result.scalar_one())

    async def unrelayed_buyer_messages(self, ticket_id: int) -> list[TicketMessage]:
        rows = await self._c.execute(
            select(ticket_messages)
            .where(
                and_(
                    ticket_messages.c.ticket_id == ticket_id,
                    ticket_messages.c.sender == "buyer",
                    ticket_messages.c.relayed.is_(False),
                )
            )
            .order_by(ticket_messages.c.id)
        )
        return [self._message(r) for r in rows]

    async def mark_relayed(self, message_ids: list[int]) -> None:
        if message_ids:
            await self._c.execute(
                update(ticket_messages)
                .where(ticket_messages.c.id.in_(message_ids))
                .values(relayed=True)
            )

    async def messages(self, ticket_id: int) -> list[TicketMessage]:
        rows = await self._c.execute(
            select(ticket_messages)
            .where(ticket_messages.c.ticket_id == ticket_id)
            .order_by(ticket_messages.c.id)
        )
        return [self._message(r) for r in rows]

    @staticmethod
    def _message(row: Any) -> TicketMessage:
        return TicketMessage(
            row.id,
            row.ticket_id,
            row.sender,
            row.author_id,
            row.body,
            row.media,
            row.source_chat_id,
            row.source_message_id,
            as_utc(row.created_at),
        )

    async def overdue(
        self, first_due_before: datetime, next_due_before: datetime
    ) -> list[tuple[Ticket, ResponseTarget, datetime]]:
        """Open tickets past a response target not yet recorded as missed:
        (ticket, the target, when it fell due)."""
        breach = response_breaches.c

        def recorded(target: ResponseTarget, due: Any) -> Any:
            return (
                select(breach.id)
                .where(
                    and_(
                        breach.ticket_id == tickets.c.id,
                        breach.target == target.value,
                        breach.due_at == due,
                    )
                )
                .exists()
            )

        rows = await self._c.execute(
            select(tickets).where(
                and_(
                    tickets.c.status.in_(OPEN),
                    or_(
                        and_(
                            tickets.c.first_response_at.is_(None),
                            tickets.c.created_at <= first_due_before,
                            ~recorded(ResponseTarget.FIRST, tickets.c.created_at),
                        ),
                        and_(
                            tickets.c.first_response_at.is_not(None),
                            tickets.c.waiting_since.is_not(None),
                            tickets.c.waiting_since <= next_due_before,
                            ~recorded(ResponseTarget.NEXT, tickets.c.waiting_since),
                        ),
                    ),
                )
            )
        )
        found: list[tuple[Ticket, ResponseTarget, datetime]] = []
        for row in rows:
            ticket = _ticket(row)
            if ticket.first_response_at is None:
                found.append((ticket, ResponseTarget.FIRST, ticket.created_at))
            elif ticket.waiting_since is not None:
                found.append((ticket, ResponseTarget.NEXT, ticket.waiting_since))
        return found

    async def record_breach(
        self, ticket_id: int, target: ResponseTarget, due_at: datetime, now: datetime
    ) -> bool:
        result = await self._c.execute(
            insert_ignoring_conflict(
                self._dialect,
                response_breaches,
                ticket_id=ticket_id,
                target=target.value,
                due_at=due_at,
                recorded_at=now,
            )
        )
        return result.rowcount == 1

    async def recent_handling_seconds(self, limit: int = 50) -> list[float]:
        """How long agents held recently closed tickets (assigned → closed)."""
        rows = await self._c.execute(
            select(tickets.c.assigned_at, tickets.c.closed_at)
            .where(
                and_(tickets.c.status == TicketStatus.CLOSED, tickets.c.assigned_at.is_not(None))
            )
            .order_by(tickets.c.closed_at.desc())
            .limit(limit)
        )
        return [(as_utc(r.closed_at) - as_utc(r.assigned_at)).total_seconds() for r in rows]

    async def opened_since(self, since: datetime) -> list[Ticket]:
        rows = await self._c.execute(select(tickets).where(tickets.c.created_at >= since))
        return [_ticket(r) for r in rows]

    async def breaches_since(self, since: datetime) -> int:
        return (
            await self._c.execute(
                select(func.count()).where(response_breaches.c.recorded_at >= since)
            )
        ).scalar_one()

    async def ratings_since(self, since: datetime) -> list[int]:
        rows = await self._c.execute(
            select(tickets.c.rating).where(
                and_(tickets.c.closed_at >= since, tickets.c.rating.is_not(None))
            )
        )
        return [int(r) for r in rows.scalars()]
