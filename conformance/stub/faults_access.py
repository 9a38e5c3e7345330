"""Faults of authentication and ownership (AUTH, OWN): each a realistic bug in a few lines."""

from __future__ import annotations

from conformance.fields import JSON, FieldError
from conformance.stub.app import PATH, Collection, Rejected, Reply, Request, StubApp
from conformance.stub.catalogue import (
    Fault,
    _NotFoundLeaks,
    _recode,
    fault,
)

# ---- AUTH --------------------------------------------------------------------------------------


@fault
class MissingKey403(Fault):
    """AUTH-1: a request without a key gets 403 Forbidden (the framework's default) instead of 401."""

    name = "missing-key-403"
    breaks = ("AUTH-1",)

    def authenticate(self, request: Request) -> str:
        if "x-api-key" not in request.headers:
            raise Rejected(_recode(self.error(401, "Forbidden", {}), "FORBIDDEN", "authorization_error", status=403))
        return super().authenticate(request)


@fault
class AuthWrongCode(Fault):
    """AUTH-1, AUTH-2: the 401 says ``UNAUTHORIZED``/``auth_error``, not the page's code and type."""

    name = "auth-wrong-code"
    breaks = ("AUTH-1", "AUTH-2")

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        return _recode(reply, "UNAUTHORIZED", "auth_error") if status == 401 else reply


@fault
class MalformedKey422(Fault):
    """AUTH-2: the key header is schema-validated before authentication; a malformed key gets 422."""

    name = "malformed-key-422"
    breaks = ("AUTH-2",)

    def authenticate(self, request: Request) -> str:
        key = request.headers.get("x-api-key")
        if key is not None and not (key.startswith("sk_") and key.isascii() and len(key) >= 16):
            raise Rejected(self.validation_error(FieldError("X-API-Key", "malformed API key")))
        return super().authenticate(request)


@fault
class KeyCaseInsensitive(Fault):
    """AUTH-2: keys are looked up in a case-insensitive column: the key in other case is accepted."""

    name = "key-case-insensitive"
    breaks = ("AUTH-2",)

    def authenticate(self, request: Request) -> str:
        sent = request.headers.get("x-api-key", "").lower()
        for key, org in self.keys.items():
            if key.lower() == sent:
                return org
        return super().authenticate(request)


@fault
class ExistsBeforeAuth(Fault):
    """AUTH-3: the collection is loaded (404 when missing) before the key is checked: ids can be probed."""

    name = "exists-before-auth"
    breaks = ("AUTH-3",)

    def dispatch(self, request: Request) -> Reply:
        match = PATH.match(request.path.split("?", 1)[0])
        if match is not None and match["collection"] not in self.collections:
            raise Rejected(self.error(404, "Music collection not found", {"collection_id": match["collection"]}))
        return super().dispatch(request)


@fault
class HeaderCaseSensitive(Fault):
    """AUTH-4: the key is read from a case-sensitive dict: ``x-api-key`` is not seen, only ``X-API-Key``."""

    name = "header-case-sensitive"
    breaks = ("AUTH-4",)

    def authenticate(self, request: Request) -> str:
        if "X-API-Key" not in request.raw_header_names:
            raise Rejected(self.error(401, "Missing or invalid authorization header", {}))
        return super().authenticate(request)


@fault
class AuthAfterWrite(Fault):
    """AUTH-6: the key is checked by an after-request hook: the write already happened when 401 is sent."""

    name = "auth-after-write"
    breaks = ("AUTH-6",)

    def dispatch(self, request: Request) -> Reply:
        match = PATH.match(request.path.split("?", 1)[0])
        if match is not None and request.method == "PATCH":
            collection = self.collections.get(match["collection"])
            if collection is not None and collection.org_id == match["org"]:
                try:
                    body = self.parse(request)
                    self.validate(body)
                    self.apply(collection, body)
                except Rejected:
                    pass
        return super().dispatch(request)


# ---- OWN ---------------------------------------------------------------------------------------


@fault
class MissingCollection500(Fault):
    """OWN-1, RESP-3: ``collections[id]`` raises KeyError for a missing id: 500 instead of 404."""

    name = "missing-collection-500"
    breaks = ("OWN-1", "RESP-3")

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        _ = self.collections[collection_id]  # the bug: a lookup that raises KeyError
        return super().find(caller, org_id, collection_id)


@fault
class NotFoundWrongCode(Fault):
    """OWN-1: the 404 says ``NOT_FOUND``/``not_found_error``, not ``RESOURCE_NOT_FOUND``/``client_error``."""

    name = "not-found-wrong-code"
    breaks = ("OWN-1",)

    def error(self, status: int, system_message: str, details: dict[str, JSON]) -> Reply:
        reply = super().error(status, system_message, details)
        return _recode(reply, "NOT_FOUND", "not_found_error") if status == 404 else reply


@fault
class OrgPathTrusted(Fault):
    """OWN-2: the path's organization is never compared with the key's: any tenant's collection is writable."""

    name = "org-path-trusted"
    breaks = ("OWN-2",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        return super().find(org_id, org_id, collection_id)


@fault
class OwnerUnchecked(Fault):
    """OWN-3: the key is checked against the path, but the collection's owner is not: foreign ids work."""

    name = "owner-unchecked"
    breaks = ("OWN-3",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is not None and caller == org_id:
            return collection
        return super().find(caller, org_id, collection_id)


@fault
class ForeignWriteThen404(Fault):
    """OWN-2, OWN-3, OWN-4: ``UPDATE ... WHERE id`` runs before ``SELECT ... WHERE id AND org``: the 404 comes
    after the foreign collection was changed."""

    name = "foreign-write-then-404"
    breaks = ("OWN-2", "OWN-3", "OWN-4")
    owned = True

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is None:
            return super().find(caller, org_id, collection_id)
        self.owned = collection.org_id == org_id == caller
        return collection

    def render(self, collection: Collection) -> dict[str, JSON]:
        if not self.owned:
            raise Rejected(self.error(404, "Music collection not found", {"collection_id": collection.id}))
        return super().render(collection)


@fault
class OwnUnderOtherOrg403(Fault):
    """OWN-4: the caller's own collection under another organization's path gets 403, telling that it exists."""

    name = "own-under-other-org-403"
    breaks = ("OWN-4",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        collection = self.collections.get(collection_id)
        if collection is not None and collection.org_id == caller != org_id:
            raise Rejected(_recode(self.error(404, "Forbidden", {}), "FORBIDDEN", "authorization_error", status=403))
        return super().find(caller, org_id, collection_id)


@fault
class PathOrgIgnored(Fault):
    """OWN-4: the handler looks the collection up by id and the key's organization; the path's is ignored."""

    name = "path-org-ignored"
    breaks = ("OWN-4",)

    def find(self, caller: str, org_id: str, collection_id: str) -> Collection:
        return super().find(caller, caller, collection_id)


@fault
class NotFoundReveals(_NotFoundLeaks):
    """OWN-5: the 404 for someone else's collection carries the collection in ``details`` (debug output)."""

    name = "not-found-reveals"

    def leaked(self, collection: Collection) -> dict[str, JSON]:
        return {"found": StubApp.render(self, collection)}
