"""Logs never carry personal data: every record is filtered before any handler writes it.

Phone and ID numbers are masked wherever they appear, and the values of query parameters that
hold what a person searched for (a full phone, ID number or name, `?q=`) are dropped: access
logs (Werkzeug's, gunicorn's) print request lines, and the lead list is searched by URL."""

from __future__ import annotations

import logging
import re

from crm.compliance.masking import mask_in_text

# query parameters whose value may be personal data
_SEARCHED = re.compile(r"([?&](?:q|phone|id_number|name)=)[^&\s\"']*")
# loggers that write request lines or job descriptions through handlers of their own
_OWN_HANDLERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "rq.worker", "rq.scheduler")


def redact(text: str) -> str:
    return mask_in_text(_SEARCHED.sub(r"\1[redacted]", text))


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # formatted once here, masked; handlers print record.exc_text as it is
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_personal_data() -> None:
    """Filter the root handlers (everything that propagates) and the loggers above; once each,
    however many apps a process builds."""
    targets = [*logging.getLogger().handlers, *map(logging.getLogger, _OWN_HANDLERS)]
    for target in targets:
        if not any(isinstance(f, RedactPersonalData) for f in target.filters):
            target.addFilter(RedactPersonalData())
