"""A test-side adapter that drives IMM through each official client style with one call shape:
`call(Action, **PascalCaseParams)` -> response body dict, or raises ImmError(code, status).

Styles: "v3" (alibabacloud-imm20200930, ACS3-HMAC-SHA256), "v2" (the same SDK with
signature_algorithm="v2", RPC HMAC-SHA1), "legacy" (aliyun-python-sdk-core +
aliyun-python-sdk-imm). Nothing here is shared with the server."""
import importlib
import json
import re

from alibabacloud_imm20200930 import models as tea_models
from alibabacloud_imm20200930.client import Client as TeaClient
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.runtime import RuntimeOptions

STYLES = ["v3", "v2", "legacy"]


class ImmError(Exception):
    def __init__(self, code, status, message, retry_after=None, kind=None):
        super().__init__(f"{status} {code}: {message}")
        self.code, self.status, self.message, self.retry_after, self.kind = code, status, message, retry_after, kind


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Imm:
    def __init__(self, endpoint, ak, secret, style="v3", region="cn-hangzhou", language=None):
        self.style = style
        self.endpoint = endpoint
        self.language = language
        if style == "legacy":
            from aliyunsdkcore.client import AcsClient
            self.client = AcsClient(ak, secret, region, auto_retry=False, timeout=30)
        else:
            cfg = open_api_models.Config(access_key_id=ak, access_key_secret=secret, endpoint=endpoint,
                                         protocol="http", read_timeout=30000, connect_timeout=30000)
            if style == "v2":
                cfg.signature_algorithm = "v2"
            if language is not None:
                from alibabacloud_tea_openapi.utils_models import GlobalParameters
                cfg.global_parameters = GlobalParameters(headers={"Accept-Language": language})
            self.client = TeaClient(cfg)

    def call(self, action, **params):
        params = {k: v for k, v in params.items() if v is not None}
        if self.style == "legacy":
            return self._legacy(action, params)
        return self._tea(action, params)

    def _tea(self, action, params):
        from alibabacloud_tea_openapi.exceptions import ThrottlingException
        req = getattr(tea_models, action + "Request")().from_map(params)
        try:
            resp = getattr(self.client, snake(action) + "_with_options")(req, RuntimeOptions())
        except ThrottlingException as e:
            raise ImmError(e.code, e.status_code, e.message, retry_after=e.retry_after, kind="throttling")
        except Exception as e:  # ClientException / ServerException
            code = getattr(e, "code", None)
            if code is None:
                raise
            raise ImmError(code, getattr(e, "status_code", None), getattr(e, "message", ""), kind=type(e).__name__)
        assert resp.status_code == 200, resp.status_code
        return resp.body.to_map()

    def _legacy(self, action, params):
        from aliyunsdkcore.acs_exception.exceptions import ServerException
        module = importlib.import_module(f"aliyunsdkimm.request.v20200930.{action}Request")
        req = getattr(module, f"{action}Request")()
        for k, v in params.items():
            setter = getattr(req, f"set_{k}", None)
            if setter is not None:
                setter(v)
            else:
                # This SDK generation lacks the setter: encode as its generated setters do.
                req.add_query_param(k, json.dumps(v) if isinstance(v, (dict, list)) else v)
        if self.language is not None:
            req.add_header("Accept-Language", self.language)
        req.set_endpoint(self.endpoint)
        req.set_protocol_type("http")
        try:
            body = self.client.do_action_with_exception(req)
        except ServerException as e:
            raise ImmError(e.get_error_code(), e.get_http_status(), e.get_error_msg(), kind="ServerException")
        return json.loads(body)
