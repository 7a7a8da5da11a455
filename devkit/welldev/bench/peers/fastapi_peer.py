"""The bench's FastAPI peer: the company ledger's Retrieve, List and Create written the way a
competent developer writes them with FastAPI, pydantic 2 and the SQLAlchemy 2 ORM on psycopg 3,
served to Lambda through Mangum. The bench times it beside the project's API on the same events.
"""

import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel, ConfigDict
from sqlalchemy import orm
from sqlalchemy.dialects.postgresql import ENUM
from sqlalchemy.orm import Mapped, mapped_column

Direction = Literal["input", "output"]
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_engines: list[sa.Engine] = []


class Base(orm.DeclarativeBase):
    metadata = sa.MetaData(schema="core_api")
    type_annotation_map = {int: sa.BigInteger(), datetime: sa.DateTime(timezone=True)}  # noqa: RUF012


class Workspace(Base):
    __tablename__ = "workspaces"
    pk: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID]
    deleted_at: Mapped[datetime | None]


class InWorkspace:
    """The columns every parent in a workspace has."""

    pk: Mapped[int] = mapped_column(primary_key=True)
    workspace_pk: Mapped[int] = mapped_column(sa.ForeignKey(Workspace.pk))
    deleted_at: Mapped[datetime | None]


class Company(InWorkspace, Base):
    __tablename__ = "companies"
    company_id: Mapped[uuid.UUID]
    name: Mapped[str]
    domain: Mapped[str | None]


class WorkspaceConnector(InWorkspace, Base):
    __tablename__ = "workspace_connectors"
    workspace_connector_id: Mapped[uuid.UUID]
    status: Mapped[str]


class Ledger(Base):
    """A row of the company ledger: a company seen through a workspace connector."""

    __tablename__ = "company_workspace_connectors"
    pk: Mapped[int] = mapped_column(primary_key=True)
    # Filled by the database (defaults, a trigger): FetchedValue has the INSERT return them.
    company_workspace_connector_id: Mapped[uuid.UUID] = mapped_column(
        server_default=sa.FetchedValue()
    )
    created_at: Mapped[datetime] = mapped_column(server_default=sa.FetchedValue())
    updated_at: Mapped[datetime | None] = mapped_column(server_default=sa.FetchedValue())
    deleted_at: Mapped[datetime | None]
    direction: Mapped[Direction] = mapped_column(
        ENUM("input", "output", name="direction_enum", schema="core_api", create_type=False)
    )
    company_pk: Mapped[int] = mapped_column(sa.ForeignKey(Company.pk))
    workspace_connector_pk: Mapped[int] = mapped_column(sa.ForeignKey(WorkspaceConnector.pk))
    company: Mapped[Company] = orm.relationship()
    workspace_connector: Mapped[WorkspaceConnector] = orm.relationship()


class Identifier(BaseModel):
    type: str
    id: uuid.UUID


class ToOne(BaseModel):
    data: Identifier


class Relationships(BaseModel):
    company: ToOne
    workspace_connector: ToOne


class Attributes(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read off the ORM rows


class NewAttributes(Attributes):
    direction: Direction


class LedgerAttributes(NewAttributes):
    created_at: datetime
    updated_at: datetime | None
    deleted_at: datetime | None


class CompanyAttributes(Attributes):
    name: str
    domain: str | None


class ConnectorAttributes(Attributes):
    status: str


class Resource[A: Attributes](Identifier):
    attributes: A


class LedgerResource(Resource[LedgerAttributes]):
    relationships: Relationships


class NewLedger(BaseModel):
    type: Literal["company_workspace_connector"]
    attributes: NewAttributes
    relationships: Relationships


Included = Resource[CompanyAttributes | ConnectorAttributes]


class Document[D](BaseModel):
    data: D


LedgerDocument = Document[LedgerResource]


class ListDocument(Document[list[LedgerResource]]):
    included: list[Included] = []
    meta: dict[str, int]


class Caller(BaseModel):
    workspace_id: uuid.UUID
    principal_kind: Literal["member", "service"]


class JSONAPIResponse(JSONResponse):
    # JSON:API's media type, set the documented way. FastAPI keeps its Rust serialization fast
    # path for the default response class: this one has pydantic dump a dict, then json.dumps.
    media_type = "application/vnd.api+json"


async def get_caller(request: Request) -> Caller:
    # The Lambda authorizer's context, which Mangum passes on in the ASGI scope.
    claims = request.scope["aws.event"]["requestContext"]["authorizer"]["lambda"]
    return Caller.model_validate(claims)


def get_session(request: Request) -> Iterator[orm.Session]:
    with request.app.state.sessions() as session:
        yield session


CallerDep = Annotated[Caller, Depends(get_caller)]
SessionDep = Annotated[orm.Session, Depends(get_session)]
router = APIRouter(prefix="/v1/company-workspace-connectors")


def in_workspace(caller: Caller) -> tuple[sa.ColumnElement[bool], ...]:
    return Workspace.workspace_id == caller.workspace_id, Workspace.deleted_at.is_(None)


def caller_ledgers(caller: Caller) -> sa.Select[tuple[Ledger]]:
    """The caller's live rows: those whose workspace connector is in the caller's workspace."""
    query = sa.select(Ledger).join(Ledger.workspace_connector).join(Workspace)
    return query.where(Ledger.deleted_at.is_(None), *in_workspace(caller))


def with_parents(query: sa.Select[tuple[Ledger]]) -> sa.Select[tuple[Ledger]]:
    # The document names both parents by their public id: loaded by the same query.
    return query.options(
        orm.contains_eager(Ledger.workspace_connector), orm.joinedload(Ledger.company)
    )


def resource(row: Ledger) -> LedgerResource:
    company, connector = row.company.company_id, row.workspace_connector.workspace_connector_id
    return LedgerResource(
        type="company_workspace_connector",
        id=row.company_workspace_connector_id,
        attributes=LedgerAttributes.model_validate(row),
        relationships=Relationships(
            company=ToOne(data=Identifier(type="company", id=company)),
            workspace_connector=ToOne(data=Identifier(type="workspace_connector", id=connector)),
        ),
    )


def included(parent: Company | WorkspaceConnector) -> Included:
    if isinstance(parent, Company):
        attributes = CompanyAttributes.model_validate(parent)
        return Included(type="company", id=parent.company_id, attributes=attributes)
    status = ConnectorAttributes.model_validate(parent)
    return Included(type="workspace_connector", id=parent.workspace_connector_id, attributes=status)


@router.get("/{ledger_id}")
def retrieve(ledger_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> LedgerDocument:
    query = caller_ledgers(caller).where(Ledger.company_workspace_connector_id == ledger_id)
    row = session.scalar(with_parents(query))
    if row is None:
        raise HTTPException(404, "Not found")
    return LedgerDocument(data=resource(row))


@router.get("")
def list_ledgers(
    caller: CallerDep,
    session: SessionDep,
    size: Annotated[int, Query(alias="page[size]", ge=1, le=100)] = 20,
    include: str = "",
) -> ListDocument:
    requested = set(filter(None, include.split(",")))
    if requested - {"company", "workspace_connector"}:
        raise HTTPException(400, "Unsupported include")
    query = caller_ledgers(caller)
    newest = query.order_by(Ledger.created_at.desc(), Ledger.company_workspace_connector_id.desc())
    rows = session.scalars(with_parents(newest).limit(size)).all()
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    # The identity map gives each parent row one object: dict.fromkeys keeps its first mention.
    names = [name for name in ("company", "workspace_connector") if name in requested]
    parents = dict.fromkeys(getattr(row, name) for row in rows for name in names)
    return ListDocument(
        data=[resource(row) for row in rows],
        included=[included(parent) for parent in parents],
        meta={"total": total, "count": len(rows)},
    )


@router.post("", status_code=201)
def create(body: Document[NewLedger], caller: CallerDep, session: SessionDep) -> LedgerDocument:
    if caller.principal_kind != "service":
        raise HTTPException(403, "Only a service key writes")
    parents = body.data.relationships
    company = session.scalar(
        sa.select(Company)
        .join(Workspace)
        .where(Company.company_id == parents.company.data.id, Company.deleted_at.is_(None))
        .where(*in_workspace(caller))
    )
    connector = session.scalar(
        sa.select(WorkspaceConnector)
        .join(Workspace)
        .where(WorkspaceConnector.workspace_connector_id == parents.workspace_connector.data.id)
        .where(WorkspaceConnector.deleted_at.is_(None), *in_workspace(caller))
    )
    if company is None or connector is None:
        raise HTTPException(422, "No such company or workspace connector in this workspace")
    direction = body.data.attributes.direction
    row = Ledger(direction=direction, company=company, workspace_connector=connector)
    session.add(row)
    session.commit()
    return LedgerDocument(data=resource(row))


def create_app(engine: sa.Engine) -> FastAPI:
    app = FastAPI(default_response_class=JSONAPIResponse)
    # The document is built from the row after COMMIT: no need to expire and reload it.
    app.state.sessions = orm.sessionmaker(engine, expire_on_commit=False)
    app.include_router(router)
    return app


def handlers(databases: Mapping[str, Mapping[str, Any]]) -> dict[str, Handler]:
    """One Lambda handler per database, each with its own app and engine kept between calls."""
    apps: dict[str, Handler] = {}
    for name, params in databases.items():
        # A warm Lambda environment keeps one connection open between calls.
        engine = sa.create_engine(
            "postgresql+psycopg://", connect_args=dict(params), pool_size=1, max_overflow=0
        )
        _engines.append(engine)
        apps[name] = Mangum(create_app(engine), lifespan="off")
    return apps


def close() -> None:
    """Close every handler's connection (``welldev.bench.peers.serving`` calls it after)."""
    while _engines:
        _engines.pop().dispose()
