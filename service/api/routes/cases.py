"""``/v1/cases``: the review queue."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from service import cases, scores
from service.api.deps import ActorDep, ReaderDep, SessionDep
from service.api.routes import errors
from service.api.routes.scoring import explanation_response
from service.api.schemas import (
    ApproveRequest,
    AssignRequest,
    CaseDetail,
    CaseEvents,
    CasePageOut,
    CaseSummary,
    DecisionRequest,
    EventOut,
)
from service.evidence import Exporter, build_evidence_pack
from service.tables import ReviewCase, ShipmentRecord

__all__ = ["router"]

router = APIRouter(prefix="/v1/cases", tags=["cases"])
_ACT = errors(401, 403, 404, 409, 413, 422, 503)


def summary(case: ReviewCase) -> CaseSummary:
    """The queue's view of a case."""
    data = case.model_dump()
    data["case_id"] = data.pop("id")
    return CaseSummary.model_validate(data)


@router.get("", response_model=CasePageOut, responses=errors(401, 403, 422, 503), summary="List cases")
def list_cases(
    principal: ReaderDep,
    session: SessionDep,
    status: Literal["open", "in_review", "awaiting_approval", "closed"] | None = None,
    band: Literal["low", "medium", "high", "critical"] | None = None,
    assignee: str | None = Query(None, max_length=100),
    kind: Literal["review", "hold", "audit"] | None = None,
    sort: Literal["-risk", "risk", "-opened_at", "opened_at", "-updated_at", "updated_at"] = "-risk",
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=500),
) -> CasePageOut:
    """The queue, filtered, sorted (default: highest risk first) and paged by cursor."""
    page = cases.list_cases(
        session=session,
        status=status,
        band=band,
        assignee=assignee,
        kind=kind,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return CasePageOut(items=[summary(c) for c in page.items], next_cursor=page.next_cursor)


def _events(session: SessionDep, case_id: str) -> list[EventOut]:
    return [EventOut.model_validate(e) for e in cases.events_of(session=session, case_id=case_id)]


@router.get("/{case_id}", response_model=CaseDetail, responses=errors(401, 403, 404, 503), summary="A case")
def get_case(case_id: str, principal: ReaderDep, session: SessionDep) -> CaseDetail:
    """The case with its shipment, latest score explained, decisions and full history."""
    case = cases.get_case(session=session, case_id=case_id)
    score = scores.get_score(session=session, score_id=case.score_id)
    record = session.get(ShipmentRecord, case.shipment_id)
    events = _events(session, case_id)
    decisions = [e for e in events if e.kind in ("decision", "approved", "approval_refused")]
    return CaseDetail.model_validate(
        {
            **summary(case).model_dump(),
            "shipment": {} if record is None else record.body,
            "score": explanation_response(score),
            "decisions": decisions,
            "events": events,
        }
    )


@router.get("/{case_id}/events", response_model=CaseEvents, responses=errors(401, 403, 404, 503))
def case_events(case_id: str, principal: ReaderDep, session: SessionDep) -> CaseEvents:
    """The append-only history: who did what, when, with what (each event hash-chained)."""
    return CaseEvents(case_id=case_id, events=_events(session, case_id))


_ZIP: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The evidence pack (ZIP): case, shipment, scores, history with its chain check, model,"
        " README.txt and a manifest of SHA-256 hashes",
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(
    "/{case_id}/evidence",
    response_class=Response,
    responses={**_ZIP, **errors(401, 403, 404, 503)},
    summary="Evidence pack of a case",
)
def evidence(case_id: str, principal: ReaderDep, session: SessionDep, request: Request) -> Response:
    """One self-contained ZIP for an authority, a court or the exporter: what was scored, with which model
    and data, why, the list matches and graph paths, and the hash-chained history, verified."""
    scorer = getattr(request.app.state, "scorer", None)
    data = build_evidence_pack(
        session=session,
        case_id=case_id,
        exporter=Exporter(name=principal.name, via="api", role=principal.role),
        model_info=None if scorer is None else scorer.model_info(),
    )
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-evidence.zip"'},
    )


@router.post("/{case_id}/assign", response_model=CaseSummary, responses=_ACT, summary="Assign a case")
def assign(case_id: str, body: AssignRequest, principal: ActorDep, session: SessionDep) -> CaseSummary:
    """Assign the case to an analyst; an open case moves to ``in_review``."""
    cases.begin_write(session)
    case = cases.assign(
        session=session,
        case_id=case_id,
        assignee=body.assignee,
        actor=principal,
        expected_version=body.version,
    )
    session.commit()
    return summary(case)


@router.post("/{case_id}/decision", response_model=CaseSummary, responses=_ACT, summary="Decide a case")
def decide(case_id: str, body: DecisionRequest, principal: ActorDep, session: SessionDep) -> CaseSummary:
    """Release, deny, escalate or request information (rationale required). On a hold, release and
    deny wait for a supervisor's approval."""
    cases.begin_write(session)
    case = cases.decide(
        session=session,
        case_id=case_id,
        decision=body.decision,
        rationale=body.rationale,
        actor=principal,
        expected_version=body.version,
    )
    session.commit()
    return summary(case)


@router.post("/{case_id}/approve", response_model=CaseSummary, responses=_ACT, summary="Second approval")
def approve(case_id: str, body: ApproveRequest, principal: ActorDep, session: SessionDep) -> CaseSummary:
    """A supervisor other than the decider approves (or refuses) a hold's release or deny."""
    cases.begin_write(session)
    case = cases.approve(
        session=session,
        case_id=case_id,
        actor=principal,
        approved=body.approved,
        comment=body.comment,
        expected_version=body.version,
    )
    session.commit()
    return summary(case)
