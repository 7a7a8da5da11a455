"""The bench's Django REST framework peer: the company ledger's Retrieve, List and Create written
the way a competent developer writes them with Django 5, Django REST framework and its JSON:API
package (django-rest-framework-json-api) on Django's psycopg 3 backend, served to Lambda through
apig-wsgi. The bench times it beside the project's API on the same events.

Django's settings are process-wide: ``handlers`` configures them on its first call, and every
call adds a database alias per name (the bench calls it again, after ``close``, with other names
or other connect keywords). A router sends each handler's queries to its own alias.
"""

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import partial
from typing import Any, ClassVar

import django
from apig_wsgi import make_lambda_handler
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connections

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# The database alias of the handler being called.
_alias: ContextVar[str] = ContextVar("peer_drf_alias")
# The URLconf (ROOT_URLCONF is this module), filled once the models can be declared.
urlpatterns: list[Any] = []


class AliasRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return _alias.get()

    db_for_write = db_for_read


def _api() -> list[Any]:
    """The models, serializers and view: declared once Django's app registry is ready."""
    from django.db import models
    from django.db.models.functions import Now
    from rest_framework import authentication, permissions, routers
    from rest_framework_json_api import serializers, views
    from rest_framework_json_api.relations import ResourceRelatedField

    # A table's public uuid is its Django pk (the JSON:API id, as the package's maintainers
    # advise); its bigint ``pk`` column, which foreign keys hold, is ``row_pk`` (Django reserves
    # the name ``pk``).
    parent = partial(models.ForeignKey, on_delete=models.DO_NOTHING, to_field="row_pk")
    uuid_v7 = models.Func(function="core_api.uuid_v7", output_field=models.UUIDField())

    class Table(models.Model):
        class Meta:
            abstract = True
            app_label = "peer_drf"
            managed = False

    class Parent(Table):
        row_pk = models.BigIntegerField(db_column="pk", unique=True)

        class Meta(Table.Meta):
            abstract = True

    class Workspace(Parent):
        id = models.UUIDField(primary_key=True, db_column="workspace_id")

        class Meta(Table.Meta):
            db_table = 'core_api"."workspaces'

    class InWorkspace(Parent):
        workspace = parent(Workspace, db_column="workspace_pk")
        deleted_at = models.DateTimeField(null=True)

        class Meta(Table.Meta):
            abstract = True

    class Company(InWorkspace):
        id = models.UUIDField(primary_key=True, db_column="company_id")
        name = models.TextField()
        domain = models.TextField(null=True)

        class Meta(Table.Meta):
            db_table = 'core_api"."companies'

    class WorkspaceConnector(InWorkspace):
        id = models.UUIDField(primary_key=True, db_column="workspace_connector_id")
        status = models.TextField()

        class Meta(Table.Meta):
            db_table = 'core_api"."workspace_connectors'

    class CompanyWorkspaceConnector(Table):
        # Database defaults, which the INSERT returns (a trigger sets updated_at to created_at).
        id = models.UUIDField(
            primary_key=True, db_column="company_workspace_connector_id", db_default=uuid_v7
        )
        company = parent(Company, db_column="company_pk")
        workspace_connector = parent(WorkspaceConnector, db_column="workspace_connector_pk")
        direction = models.TextField(choices=[("input", "input"), ("output", "output")])
        created_at = models.DateTimeField(db_default=Now())
        updated_at = models.DateTimeField(null=True, db_default=Now())
        deleted_at = models.DateTimeField(null=True)

        class Meta(Table.Meta):
            db_table = 'core_api"."company_workspace_connectors'
            ordering = ("-created_at", "-id")

    class AuthorizerClaims(authentication.BaseAuthentication):
        # API Gateway's Lambda authorizer checked the credentials: its context is the user.
        def authenticate(self, request: Any) -> tuple[dict[str, str], None]:
            return request.META["apig_wsgi.request_context"]["authorizer"]["lambda"], None

    class ServiceWrites(permissions.BasePermission):
        def has_permission(self, request: Any, view: Any) -> bool:
            safe = request.method in permissions.SAFE_METHODS
            return safe or request.user["principal_kind"] == "service"

    class ParentField(ResourceRelatedField):
        def use_pk_only_optimization(self) -> bool:
            # The foreign key holds the parent's row_pk, not its id: read the parent itself,
            # which the view always joins in (select_for_includes "__all__").
            return False

    class CompanySerializer(serializers.ModelSerializer):
        class Meta:
            model = Company
            resource_name = "company"
            fields = ("name", "domain")

    class WorkspaceConnectorSerializer(serializers.ModelSerializer):
        class Meta:
            model = WorkspaceConnector
            resource_name = "workspace_connector"
            fields = ("status",)

    class CompanyWorkspaceConnectorSerializer(serializers.ModelSerializer):
        # Live parents, with their workspace for validate() to compare with the caller's.
        company = ParentField(
            queryset=Company.objects.filter(deleted_at=None).select_related("workspace")
        )
        workspace_connector = ParentField(
            queryset=WorkspaceConnector.objects.filter(deleted_at=None).select_related("workspace")
        )
        included_serializers: ClassVar[dict[str, Any]] = {
            "company": CompanySerializer,
            "workspace_connector": WorkspaceConnectorSerializer,
        }

        class Meta:
            model = CompanyWorkspaceConnector
            resource_name = "company_workspace_connector"
            read_only_fields = ("created_at", "updated_at", "deleted_at")
            fields = ("direction", *read_only_fields, "company", "workspace_connector")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            workspace_id = self.context["request"].user["workspace_id"]
            for name in ("company", "workspace_connector"):
                if str(attrs[name].workspace.pk) != workspace_id:
                    raise serializers.ValidationError({name: "Not in this workspace."})
            return attrs

    class CompanyWorkspaceConnectorViewSet(views.ModelViewSet):
        queryset = CompanyWorkspaceConnector.objects.all()
        serializer_class = CompanyWorkspaceConnectorSerializer
        authentication_classes = (AuthorizerClaims,)
        permission_classes = (ServiceWrites,)
        http_method_names = ("get", "post")
        select_for_includes: ClassVar[dict[str, Any]] = {
            "__all__": ["company", "workspace_connector"]
        }

        def get_queryset(self) -> Any:
            workspace_id = self.request.user["workspace_id"]
            live = super().get_queryset().filter(deleted_at=None)
            return live.filter(workspace_connector__workspace__pk=workspace_id)

    router = routers.SimpleRouter(trailing_slash=False)
    router.register("v1/company-workspace-connectors", CompanyWorkspaceConnectorViewSet)
    return list(router.urls)


def _database(params: Mapping[str, Any]) -> dict[str, Any]:
    named = {
        "HOST": "host",
        "PORT": "port",
        "NAME": "dbname",
        "USER": "user",
        "PASSWORD": "password",
    }
    return {key: params.get(name, "") for key, name in named.items()} | {
        "ENGINE": "django.db.backends.postgresql",
        "CONN_MAX_AGE": None,  # kept open across calls, as a warm Lambda environment keeps it
        "OPTIONS": {k: v for k, v in params.items() if k not in named.values()},
    }


def handlers(databases: Mapping[str, Mapping[str, Any]]) -> dict[str, Handler]:
    """One Lambda handler per name of ``databases``, each on its own connection."""
    if not settings.configured:
        jsonapi = "rest_framework_json_api"
        settings.configure(
            DEBUG=False,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=["rest_framework", jsonapi],
            # Never connected (the router routes every query), but Django asks the default's
            # features what an INSERT can return.
            DATABASES={"default": {"ENGINE": "django.db.backends.postgresql"}},
            DATABASE_ROUTERS=[AliasRouter()],
            USE_TZ=True,
            TIME_ZONE="UTC",
            REST_FRAMEWORK={
                "PAGE_SIZE": 20,
                "DEFAULT_PAGINATION_CLASS": f"{jsonapi}.pagination.JsonApiPageNumberPagination",
                "DEFAULT_PARSER_CLASSES": (f"{jsonapi}.parsers.JSONParser",),
                "DEFAULT_RENDERER_CLASSES": (f"{jsonapi}.renderers.JSONRenderer",),
                "DEFAULT_METADATA_CLASS": f"{jsonapi}.metadata.JSONAPIMetadata",
                "EXCEPTION_HANDLER": f"{jsonapi}.exceptions.exception_handler",
                "UNAUTHENTICATED_USER": None,  # no django.contrib.auth
            },
        )
        django.setup()
        urlpatterns.extend(_api())
    # Django read DATABASES once: a later alias goes into the dict its connection handler
    # holds, completed with Django's defaults.
    configured = connections.settings
    configured.update({name: _database(params) for name, params in databases.items()})
    connections.configure_settings(configured)
    app = make_lambda_handler(get_wsgi_application())

    def on(alias: str) -> Handler:
        def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
            token = _alias.set(alias)
            try:
                return app(event, context)
            finally:
                _alias.reset(token)

        return handler

    return {name: on(name) for name in databases}


def close() -> None:
    """Close the handlers' connections, and forget them so that an alias may be given anew."""
    for connection in connections.all(initialized_only=True):
        connection.close()
        del connections[connection.alias]
