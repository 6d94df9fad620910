from django.core.management.base import BaseCommand, CommandError

from flxhub.exceptions import ApplicationError
from inventory.models import Channel
from orders.models import ApiToken
from orders.services.tokens import api_token_create
from sources.models import Source


def _by_id_or_name(model, value: str, what: str):
    found = model.objects.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or model.objects.filter(name=value).first()
    if found is None:
        raise CommandError(f"No {what} with id or name {value!r}.")
    return found


class Command(BaseCommand):
    help = "Create an API token and print it once: it is stored hashed and cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=ApiToken.Kind.values)
        parser.add_argument("--source", help="Source id or name (source tokens).")
        parser.add_argument("--channel", help="Channel id or name (channel tokens).")
        parser.add_argument("--name", help="A label for the token; defaults to the kind and scope.")
        parser.add_argument("--rate-limit", type=int, help="Requests per minute; default: the global default.")

    def handle(self, *args, kind, source=None, channel=None, name=None, rate_limit=None, **options):
        if kind == ApiToken.Kind.SOURCE and not source:
            raise CommandError("A source token needs --source <id or name>.")
        if kind == ApiToken.Kind.CHANNEL and not channel:
            raise CommandError("A channel token needs --channel <id or name>.")
        if kind != ApiToken.Kind.SOURCE and source or kind != ApiToken.Kind.CHANNEL and channel:
            raise CommandError("--source goes with --kind source, --channel with --kind channel.")
        source_obj = _by_id_or_name(Source, source, "source") if source else None
        channel_obj = _by_id_or_name(Channel, channel, "channel") if channel else None
        label = name or f"{kind} token" + (f" for {source_obj or channel_obj}" if source_obj or channel_obj else "")
        try:
            token, plaintext = api_token_create(
                kind=kind,
                name=label,
                source_id=source_obj.pk if source_obj else None,
                channel_id=channel_obj.pk if channel_obj else None,
                rate_limit_per_minute=rate_limit,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"Created {token}.")
        self.stdout.write("Copy the token now; it is stored hashed and will not be shown again:")
        self.stdout.write(plaintext)
