"""What a notification says: a title and a plain-text body per event, and the digest of a burst.

Each message about a job names it (id, name, service, panel) and, when the lab's dashboard has a
public address (``fedimpute serve --public-url URL``, kept in ``HOME/public_url``; the variable
``FEDIMPUTE_PUBLIC_URL`` overrides it), links to the job there.  A completion or download carries
the quality one-liner (variants; mean R² for MAF >= 5%) once the results are downloaded and their
quality files can be read.  Messages are rendered when sent (from the store as it is then) and pass
through :func:`~fedimpute.redaction.redact`, so no registered secret can leave in one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fedimpute.exceptions import FedImputeError, JobNotFoundError, UsageError
from fedimpute.models import Job
from fedimpute.paths import home_dir, write_private
from fedimpute.redaction import redact
from fedimpute.store import Store

__all__ = ["PUBLIC_URL_ENV", "PUBLIC_URL_FILE", "Message", "digest", "headline", "job_link", "probe_message",
           "public_url", "quality_line", "render", "save_public_url"]

log = logging.getLogger(__name__)

PUBLIC_URL_ENV = "FEDIMPUTE_PUBLIC_URL"
PUBLIC_URL_FILE = "public_url"
_TITLES = {"completed": "completed", "failed": "failed", "downloaded": "results downloaded",
           "expiring": "results about to be deleted"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str


def save_public_url(home: Path, url: str | None) -> None:
    """Keep the dashboard's public address for the senders of this home (None or "": forget it)."""
    path = home_dir(home) / PUBLIC_URL_FILE
    if not url:
        path.unlink(missing_ok=True)
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise UsageError(f"--public-url must be the http(s) address people open, without credentials "
                         f"(e.g. https://imputation.example.org), not {parts.scheme or 'no scheme'}://…")
    write_private(path, url.rstrip("/") + "\n")


def public_url(home: Path) -> str | None:
    """The dashboard's public address: ``FEDIMPUTE_PUBLIC_URL``, else ``HOME/public_url``, else None."""
    value = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if not value:
        try:
            value = (Path(home) / PUBLIC_URL_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return None
    return value.rstrip("/") or None


def job_link(base: str | None, job_id: str) -> str | None:
    return f"{base}/dashboard?job={quote(job_id)}" if base else None


def quality_line(store: Store, job_id: str) -> str | None:
    """``Quality: 1,234 variants; mean R² 0.93 for MAF >= 5%`` from the downloaded results, or None
    (not downloaded, or no readable quality file: the message goes without it)."""
    from fedimpute.quality import job_quality

    try:
        doc = job_quality(store, job_id)
    except (FedImputeError, OSError) as exc:
        log.debug("no quality line for %s: %s", job_id, exc)
        return None
    common = [b for b in doc.get("bins", []) if b["maf_lo"] >= 0.05 and b["n"]]
    n = sum(b["n"] for b in common)
    r2 = f"; mean R² {sum(b['mean_r2'] * b['n'] for b in common) / n:.3f} for MAF >= 5%" if n else ""
    return f"Quality: {doc.get('variants', 0):,} variants{r2}"


def _job_words(job: Job) -> str:
    name = f' "{job.name}"' if job.name else ""
    panel = f", panel {job.panel}" if job.panel else ""
    return f"Job {job.job_id}{name} on {job.service}{panel}"


def _job_message(store: Store, event: dict[str, Any], link: str | None) -> Message:
    job = store.get_job(event["job_id"])
    kind = event["event"]
    lines = [f"{_job_words(job)}: {_TITLES.get(kind, kind)}."]
    if kind == "failed":
        lines.append(f"Reason: {event['detail'] or job.error or 'the service gave none'}")
    elif kind == "expiring":
        lines.append(event["detail"])
    if kind in ("completed", "downloaded"):
        quality = quality_line(store, job.job_id)
        if quality:
            lines.append(quality)
        elif kind == "completed":
            lines.append(f"Results: `fedimpute results download {job.job_id}` (or the dashboard) fetches them.")
    if link:
        lines.append(f"Open: {link}")
    title = f"fedimpute: {job.name or job.job_id} {_TITLES.get(kind, kind)}"
    return Message(title, "\n".join(lines))


def _service_message(store: Store, event: dict[str, Any], base: str | None) -> Message:
    service, owner = event["service"], event["owner"]
    if event["event"] == "token_expiring":
        return Message(f"fedimpute: your {service} token expires soon",
                       f"Your token for {service} {event['detail']}. Create a new one on the service's profile "
                       f"page and set it in Settings or with `fedimpute login {service} --user {owner}`."
                       + (f"\nOpen: {base}/dashboard" if base else ""))
    jobs = [j for j in store.list_jobs(service=service, owner=owner) if not j.status.is_terminal]
    lines = [f"{service} is {event['detail']}.", f"You have {len(jobs)} unfinished job(s) there; they wait and "
             "resume when it is back (nothing is lost):"]
    lines += [f"- {_job_words(j)} ({j.status.value})" + (f": {job_link(base, j.job_id)}" if base else "")
              for j in jobs[:10]]
    if len(jobs) > 10:
        lines.append(f"- and {len(jobs) - 10} more")
    state = str(event["detail"]).split(" since ", 1)[0] or "down"  # "down" or "in maintenance"
    return Message(f"fedimpute: {service} is {state}", "\n".join(lines))


def render(store: Store, event: dict[str, Any]) -> Message:
    """The message of one outbox event (a dict of its columns)."""
    base = public_url(store.home)
    try:
        if event["job_id"]:
            message = _job_message(store, event, job_link(base, event["job_id"]))
        else:
            message = _service_message(store, event, base)
    except JobNotFoundError:  # the job was deleted since: say what is known
        message = Message(f"fedimpute: job {event['job_id']} {event['event']}",
                          f"Job {event['job_id']} on {event['service']}: {event['event']}. {event['detail']}")
    return Message(redact(message.title), redact(message.body))


def headline(store: Store, event: dict[str, Any]) -> str:
    """The first line of an event's message, without reading result files (for a digest)."""
    if not event["job_id"]:
        return redact(f"{event['service']}: {event['event'].replace('_', ' ')} ({event['detail']})")
    try:
        words = _job_words(store.get_job(event["job_id"]))
    except JobNotFoundError:
        words = f"Job {event['job_id']} on {event['service']}"
    return redact(f"{words}: {_TITLES.get(event['event'], event['event'])}.")


def digest(store: Store, events: list[dict[str, Any]]) -> Message:
    """One message for a burst of events (more than five for one user within a minute)."""
    base = public_url(store.home)
    lines = [f"{len(events)} notifications:"]
    for event in events:
        link = job_link(base, event["job_id"]) if event["job_id"] else None
        lines.append(f"- {headline(store, event)}" + (f" {link}" if link else ""))
    if base:
        lines.append(f"Open: {base}/dashboard")
    return Message(f"fedimpute: {len(events)} notifications", "\n".join(lines))


def probe_message(user: str, home: Path) -> Message:
    """What `notify test` sends."""
    base = public_url(home)
    return Message("fedimpute: test notification",
                   f"This is a test of {user}'s notification channel from fedimpute: it works."
                   + (f"\nDashboard: {base}/dashboard" if base else ""))
