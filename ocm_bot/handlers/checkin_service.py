"""The check-in service (drafts, outbox, OCM accounts), built once for the check-in, sign-in and
outbox handlers. The composition root takes this over in a later step (issue 11, item 1)."""

from __future__ import annotations

from datetime import timedelta

from ocm_bot.context import BotContext, Services
from ocm_bot.domain.accounts import Accounts
from ocm_bot.domain.checkin import CheckinService
from ocm_bot.domain.outbox import Outbox, charger_refresher


def checkin_service(services: Services) -> CheckinService | None:
    """The check-in service, built on first use; None without storage (nowhere to keep a draft)."""
    if services.checkin is None and services.storage is not None:
        services.checkin = build_service(services)
    return services.checkin


def build_service(services: Services) -> CheckinService:
    settings = services.settings
    write_key = settings.ocm_write_key.get() if settings.ocm_write_key else None
    client = services.ocm_client

    outbox = Outbox(
        services.storage,
        client,
        write_key=write_key,
        refresh_charger=charger_refresher(client) if client is not None else None,
        lease_seconds=settings.outbox_lease_seconds,
    )
    accounts = Accounts(services.storage, client)
    minutes = settings.checkin_min_interval_minutes
    return CheckinService(
        services.storage,
        outbox,
        accounts,
        chargers=services.chargers or client,
        write_key_configured=write_key is not None and client is not None,
        min_interval=timedelta(minutes=minutes),
    )


def service_for(context: BotContext) -> CheckinService | None:
    return checkin_service(context.services)
