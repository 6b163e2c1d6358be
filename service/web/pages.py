"""The analyst pages: sign in with an API key (kept in an HttpOnly, SameSite=Strict cookie), the review
queue, a case with its reasons, red flags, screening hits, graph paths, history and decision forms, and
the explanation of a score (every feature's contribution, adding up to the model's log-odds).

The pages call the same workflow functions as the JSON API; they hold no logic of their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from service import cases, scores
from service.auth import Permission, Principal, authenticate, hash_token
from service.db import get_engine
from service.errors import AuthenticationError, CatchallError
from service.evidence import Exporter, build_evidence_pack
from service.tables import ShipmentRecord
from service.web.explanation import explanation_view

__all__ = ["router"]

COOKIE = "catchall_key"
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)


def _session(request: Request) -> Session:
    return Session(get_engine(request.app.state.settings.resolved_database_url), expire_on_commit=False)


def _principal(request: Request, session: Session) -> Principal | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        principal = authenticate(session=session, authorization=f"Bearer {token}")
    except AuthenticationError:
        return None
    return principal if principal.can(Permission.read) else None


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, error: str | None = None) -> Response:
    """The sign-in form."""
    return templates.TemplateResponse(request, "login.html", {"error": error})


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()]) -> Response:
    """Check the key (analyst, supervisor or admin) and keep it in a cookie."""
    with _session(request) as session:
        try:
            principal = authenticate(session=session, authorization=f"Bearer {key.strip()}")
        except AuthenticationError:
            principal = None
    if principal is None or not principal.can(Permission.read):
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": "unknown key, or a role that may not read cases"},
            status_code=401,
        )
    response = RedirectResponse("/ui/cases", status_code=303)
    response.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", max_age=8 * 3600)
    request.app.state.key_cache.put(hash_token(f"Bearer {key.strip()}"), principal)
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the key."""
    response = _login_redirect()
    response.delete_cookie(COOKIE)
    return response


@router.get("/cases", response_class=HTMLResponse)
def queue(
    request: Request,
    status: str | None = None,
    band: str | None = None,
    assignee: str | None = None,
    cursor: str | None = None,
) -> Response:
    """The review queue, highest risk first."""
    with _session(request) as session:
        principal = _principal(request, session)
        if principal is None:
            return _login_redirect()
        status = status if status in cases.STATUSES else None
        band = band if band in ("low", "medium", "high", "critical") else None
        try:
            page = cases.list_cases(
                session=session, status=status, band=band, assignee=assignee or None, cursor=cursor, limit=50
            )
        except CatchallError:
            page = cases.list_cases(
                session=session, status=status, band=band, assignee=assignee or None, limit=50
            )
    context: dict[str, Any] = {
        "user": principal,
        "page": page,
        "filters": {"status": status or "", "band": band or "", "assignee": assignee or ""},
        "statuses": cases.STATUSES,
    }
    return templates.TemplateResponse(request, "queue.html", context)


def _case_context(session: Session, case_id: str) -> dict[str, Any]:
    case = cases.get_case(session=session, case_id=case_id)
    score = scores.get_score(session=session, score_id=case.score_id)
    record = session.get(ShipmentRecord, case.shipment_id)
    return {
        "case": case,
        "score": score,
        "shipment": {} if record is None else record.body,
        "events": cases.events_of(session=session, case_id=case_id),
        "decisions": cases.DECISIONS,
    }


@router.get("/scores/{score_id}", response_class=HTMLResponse)
def explanation_page(request: Request, score_id: str) -> Response:
    """A score's explanation: every contribution, largest first, and the sum that gives the log-odds."""
    with _session(request) as session:
        principal = _principal(request, session)
        if principal is None:
            return _login_redirect()
        try:
            score = scores.get_score(session=session, score_id=score_id)
        except CatchallError as exc:
            return templates.TemplateResponse(
                request, "error.html", {"user": principal, "detail": exc.detail}, status_code=exc.status
            )
        case_id = scores.case_id_for(session=session, shipment_id=score.shipment_id)
    context = {"user": principal, "score": score, "case_id": case_id, "view": explanation_view(score)}
    return templates.TemplateResponse(request, "explanation.html", context)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, error: str | None = None) -> Response:
    """A case: why it was flagged, who is behind the parties, what was done."""
    with _session(request) as session:
        principal = _principal(request, session)
        if principal is None:
            return _login_redirect()
        try:
            context = _case_context(session, case_id)
        except CatchallError as exc:
            return templates.TemplateResponse(
                request, "error.html", {"user": principal, "detail": exc.detail}, status_code=exc.status
            )
    context.update(user=principal, error=error, can_approve=principal.can(Permission.approve))
    return templates.TemplateResponse(request, "case.html", context)


@router.get("/cases/{case_id}/evidence")
def evidence_download(request: Request, case_id: str) -> Response:
    """The case's evidence pack (the same ZIP as ``GET /v1/cases/{case_id}/evidence``), as a download."""
    with _session(request) as session:
        principal = _principal(request, session)
        if principal is None:
            return _login_redirect()
        scorer = getattr(request.app.state, "scorer", None)
        try:
            data = build_evidence_pack(
                session=session,
                case_id=case_id,
                exporter=Exporter(name=principal.name, via="web", role=principal.role),
                model_info=None if scorer is None else scorer.model_info(),
            )
        except CatchallError as exc:
            return templates.TemplateResponse(
                request, "error.html", {"user": principal, "detail": exc.detail}, status_code=exc.status
            )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence.zip"'},
    )


async def _act(request: Request, case_id: str, action: str, form: dict[str, str]) -> Response:
    def run() -> str | None:
        with _session(request) as session:
            principal = _principal(request, session)
            if principal is None:
                raise AuthenticationError("sign in again")
            cases.begin_write(session)
            version = int(form["version"]) if form.get("version", "").isdigit() else None
            if action == "assign":
                cases.assign(
                    session=session, case_id=case_id, assignee=form.get("assignee", ""), actor=principal,
                    expected_version=version,
                )  # fmt: skip
            elif action == "decision":
                cases.decide(
                    session=session, case_id=case_id, decision=form.get("decision", ""),
                    rationale=form.get("rationale", ""), actor=principal, expected_version=version,
                )  # fmt: skip
            else:
                cases.approve(
                    session=session, case_id=case_id, actor=principal, approved=form.get("approved") != "no",
                    comment=form.get("comment"), expected_version=version,
                )  # fmt: skip
            session.commit()
        return None

    try:
        await run_in_threadpool(run)
    except AuthenticationError:
        return _login_redirect()
    except CatchallError as exc:
        return RedirectResponse(f"/ui/cases/{case_id}?error={quote(exc.detail)}", status_code=303)
    return RedirectResponse(f"/ui/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/{action}")
async def act(request: Request, case_id: str, action: str) -> Response:
    """Assign, decide or approve from the case page (forms post here)."""
    if action not in ("assign", "decision", "approve"):
        return RedirectResponse(f"/ui/cases/{case_id}", status_code=303)
    form = {k: str(v) for k, v in (await request.form()).items()}
    return await _act(request, case_id, action, form)
