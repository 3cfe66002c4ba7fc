"""HTTP plumbing shared by every blueprint: authentication, validation, one error shape, OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Any, Protocol
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.auth import service as auth_service
from crm.auth.actor import Actor
from crm.compliance import audit
from crm.errors import DomainError, NotFound
from crm.extensions import db
from crm.schemas import BIGINT_MAX

log = logging.getLogger(__name__)


class LockedActor(Protocol):
    """What an endpoint's `locks_actor` returns: at least the actor as their row says now."""

    @property
    def actor(self) -> Actor: ...


@dataclass
class Operation:
    """One documented endpoint; the same record drives validation and the OpenAPI document."""

    rule: str
    method: str
    name: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    form: type[BaseModel] | None
    files: tuple[str, ...]
    response: Any
    status: int
    permission: str | None
    public: bool
    readonly: bool
    locks_actor: Callable[[Session, Actor], LockedActor] | None

    @cached_property
    def response_adapter(self) -> TypeAdapter[Any] | None:
        return TypeAdapter(self.response) if self.response is not None else None


class ApiBlueprint(Blueprint):
    def __init__(self, name: str, import_name: str, tag: str, **kwargs: Any) -> None:
        kwargs.setdefault("url_prefix", "/api/v1")
        super().__init__(name, import_name, **kwargs)
        self.tag = tag
        self.operations: list[Operation] = []

    def endpoint(
        self,
        rule: str,
        method: str = "GET",
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        form: type[BaseModel] | None = None,
        files: tuple[str, ...] = (),
        response: Any = None,
        status: int = 200,
        permission: str | None = None,
        public: bool = False,
        readonly: bool | None = None,
        locks_actor: Callable[[Session, Actor], LockedActor] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register a route whose handler gets (session, actor, body?, query?, **url args).

        `locks_actor` reads the caller's row locked, and more of what the endpoint needs, in
        the statement that would otherwise only refresh the actor; the handler gets its result
        as `locked` (claims: crm/pools/service.lock_claimer, begin_claim)."""

        def decorator(handler: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                rule=(self.url_prefix or "") + rule,
                method=method,
                name=handler.__name__,
                summary=(handler.__doc__ or "").strip().split("\n")[0],
                tag=self.tag,
                body=body,
                query=query,
                form=form,
                files=files,
                response=response,
                status=status,
                permission=permission,
                public=public,
                # GETs read only, unless the endpoint says it writes (SQLite locking, crm/db.py)
                readonly=method == "GET" if readonly is None else readonly,
                locks_actor=locks_actor,
            )
            self.operations.append(op)

            @wraps(handler)
            def view(**url_args: Any) -> Any:
                return _dispatch(op, handler, url_args)

            self.add_url_rule(rule, handler.__name__, view, methods=[method])
            return handler

        return decorator


def _dispatch(op: Operation, handler: Callable[..., Any], url_args: dict[str, Any]) -> Any:
    # who, then may they, then what they sent: a caller without the right learns nothing
    # about the input an endpoint expects (401/403 before 422)
    actor = auth_service.actor_from_token(
        bearer_token(), current_app.config["SETTINGS"], ip=client_ip(), required=not op.public
    )
    if any(isinstance(value, int) and value > BIGINT_MAX for value in url_args.values()):
        raise NotFound()  # no row has an id past BIGINT; the database would refuse to look
    validated_input = _read_input(op)
    with (
        audit.accessed_via(access_method()),
        db.unit_of_work(actor, readonly=op.readonly) as session,
    ):
        locked: dict[str, LockedActor] = {}
        if actor.user_id is not None:
            actor, locked = _current_actor(op, session, actor)
        if op.permission:
            actor.require(op.permission)
        result = handler(session=session, actor=actor, **url_args, **validated_input(), **locked)
        if isinstance(result, current_app.response_class):
            return result
        return _answer(op.response_adapter, result, op.status)


def _current_actor(
    op: Operation, session: Session, provisional: Actor
) -> tuple[Actor, dict[str, LockedActor]]:
    """The caller as their row says now (role, team, active), the session scoped to them; an
    endpoint that locks the row also gets what its lock read, as `locked`."""
    if op.locks_actor is None:
        return auth_service.refresh_actor(session, provisional), {}
    locked = op.locks_actor(session, provisional)
    return auth_service.act_as(session, locked.actor), {"locked": locked}


def _read_input(op: Operation) -> Callable[[], dict[str, Any]]:
    """The request's input, read now, before the transaction (a slow upload must not hold the
    database, SQLite's write lock least of all), and validated when called, once the caller's
    permission is known."""
    raw = request.get_data(cache=False) if op.body is not None else b""
    args = request.args.to_dict() if op.query is not None else {}
    form = request.form.to_dict() if op.form is not None else {}
    files = {name: request.files.get(name) for name in op.files}

    def validated() -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if op.body is not None:
            kwargs["body"] = op.body.model_validate_json(raw if raw.strip() else b"{}")
        if op.query is not None:
            kwargs["query"] = op.query.model_validate(args)
        if op.form is not None:
            kwargs["form"] = op.form.model_validate(form)
        for name, file in files.items():
            if file is None:
                message = f"attach the file as the multipart field {name!r}"
                raise DomainError("missing_file", message)
            kwargs[name] = file
        return kwargs

    return validated


def access_method() -> str:
    """How a request reached personal data, for the audit log (credit-reporting rules art. 33):
    through the browser (cookie) or an API client (bearer token), and which endpoint."""
    header = request.headers.get("Authorization", "")
    channel = "api" if header.lower().startswith("bearer ") else "browser"
    return f"{channel} {request.method} {request.path}"


def _answer(adapter: TypeAdapter[Any] | None, result: Any, status: int) -> Any:
    """The handler's result as JSON, shaped by the endpoint's response schema: pydantic
    validates and writes it in one pass of its own serializer (Flask's encoder would walk the
    payload again in Python: a twentieth of a claim)."""
    if adapter is None:
        return jsonify(result), status
    body = adapter.dump_json(adapter.validate_python(result, from_attributes=True))
    return current_app.response_class(body, status, mimetype="application/json")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get("access_token")


def client_ip() -> str | None:
    """The address of whoever sent the request: the browser's behind trusted proxies."""
    return request.remote_addr


class NoSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, never opened: we keep who is logged in in our own tokens
    (crm/auth), so `flask.session` stays an empty, read-only null session, and no request pays
    for looking for and verifying a cookie nobody reads."""

    def open_session(self, app: Flask, request: Any) -> None:
        return None


def behind_proxies(wsgi_app: Any, hops: int) -> Any:
    """`wsgi_app` behind `hops` proxies (PROXY_HOPS, 1 behind nginx) that each append the address
    they received from to X-Forwarded-For and set X-Forwarded-Proto: the client's address is
    the one the farthest trusted proxy saw, and whatever the client itself wrote further left is
    ignored. With 0 the headers are ignored altogether: anyone could forge them."""
    if not hops:
        return wsgi_app
    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops)


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None):
    return jsonify({"error": {"code": code, "message": message, "details": details or {}}}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        return error_response(err.status, err.code, err.message, err.details)

    @app.errorhandler(ValidationError)
    def _validation(err: ValidationError):
        fields = [
            {"loc": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in err.errors(include_url=False, include_input=False)
        ]
        # the body as a whole is not JSON (a JSON-typed field inside it is a field error)
        if any(f["type"] == "json_invalid" and not f["loc"] for f in fields):
            return error_response(400, "invalid_json", "the request body is not valid JSON")
        return error_response(
            422, "validation_error", "some fields are missing or invalid", {"fields": fields}
        )

    @app.errorhandler(DataError)
    def _unstorable(err: DataError):
        # a value the schema let through but a column cannot hold (an id past a 32-bit
        # column's range on PostgreSQL); never logged with its parameters: they may be personal
        log.warning("refused a value the database cannot store (%s)", type(err.orig).__name__)
        return error_response(422, "invalid_value", "a value is out of range or cannot be stored")

    @app.errorhandler(OperationalError)
    def _database_unavailable(err: OperationalError):
        # the database restarting or failing over: nothing was committed, the client may retry
        log.warning("database unavailable (%s)", type(err.orig).__name__)
        response, status = error_response(
            503, "database_unavailable", "the database is unavailable; try again in a moment"
        )
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        code = (err.name or "error").lower().replace(" ", "_")
        return error_response(err.code or 500, code, err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")


def file_response(content: bytes, mimetype: str, filename: str, *, inline: bool = False):
    """A download: the name in RFC 5987 form so Chinese file names survive, never sniffed."""
    disposition = "inline" if inline else "attachment"
    response = current_app.response_class(content, mimetype=mimetype)
    fallback = quote(filename.encode("ascii", "ignore").decode() or "file")
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
