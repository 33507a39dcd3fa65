"""The Twilio SMS backend, through the official twilio SDK.

``base_url`` points the SDK's API domain elsewhere (LIVEGATE_TWILIO_BASE_URL): the tests run it
against a fake Twilio HTTP server on loopback. Errors are sorted into permanent (the number
cannot receive: do not retry) and transient (rate limit, server error, network: retry).
"""

from __future__ import annotations

import logging

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from ..sms import PermanentSendError, TransientSendError

# Twilio error codes that mean "this number will not get the message", retrying cannot help.
# https://www.twilio.com/docs/api/errors
PERMANENT_CODES = {
    21211,  # invalid 'To' phone number
    21214,  # 'To' number cannot be reached
    21408,  # permission to send to this region not enabled
    21610,  # recipient unsubscribed (STOP)
    21612,  # cannot route to this number
    21614,  # 'To' is not a mobile number
    21635,  # 'To' number cannot be reached (landline)
    30003, 30005, 30006,  # unreachable, unknown, landline or unreachable carrier
}


class TwilioSender:
    """Sends one SMS with ``client.messages.create``; no retries here (the channel retries)."""

    name = "twilio"
    keeps_copy = False

    def __init__(self, *, account_sid: str, auth_token: str, from_: str, base_url: str | None = None,
                 timeout: float = 5.0) -> None:
        quiet = logging.getLogger("livegate.sms.twilio_http")
        quiet.setLevel(logging.WARNING)  # the SDK logs each request at INFO; keep that out of our logs
        self._client = Client(account_sid, auth_token,
                              http_client=TwilioHttpClient(timeout=timeout, logger=quiet))
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._from = from_

    def send(self, to: str, body: str) -> str:
        try:
            message = self._client.messages.create(to=to, from_=self._from, body=body)
        except TwilioRestException as exc:
            code = exc.code
            label = f"twilio {code or exc.status}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(f"{label}: {exc.msg}", str(code or exc.status)) from None
            if code in PERMANENT_CODES or 400 <= exc.status < 500:
                # Other 4xx (bad credentials, bad sender) will not heal by retrying either.
                raise PermanentSendError(f"{label}: {exc.msg}", str(code or exc.status)) from None
            raise TransientSendError(f"{label}: {exc.msg}", str(code or exc.status)) from None
        except requests.RequestException as exc:
            raise TransientSendError(f"network: {type(exc).__name__}", "network") from None
        except TwilioException as exc:
            raise TransientSendError(f"twilio: {type(exc).__name__}", "twilio") from None
        return str(message.sid)
