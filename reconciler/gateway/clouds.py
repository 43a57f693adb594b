"""Opening a cloud: the clouds.yaml entry (checked in cloudconfig.py), authentication, the
project scope and the Glance endpoint, each failure a one-line CloudError that says what to do
(Keystone's failures described by request_failures.py).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keystoneauth1.exceptions
import keystoneauth1.identity.generic.base
import openstack.config
import openstack.config.loader
import openstack.connection
import openstack.exceptions
import requests

from reconciler.errors import CloudError
from reconciler.gateway.cloudconfig import (
    ConfigFiles,
    ConfigSearch,
    check_config_files,
    unknown_cloud,
)
from reconciler.gateway.features import glance_root
from reconciler.gateway.request_failures import (
    answer_text,
    connection_reason,
    describe_failure,
    is_timeout,
    response_of,
    status_of,
)
from reconciler.retry import API_TRANSIENT, RetryBudget, RetryPolicy, parse_retry_after

__all__ = [
    "AUTH_RETRY",
    "CLIENT_ERRORS",
    "ConfigSearch",
    "OpenedCloud",
    "config_search",
    "load_cloud_region",
    "open_cloud",
]

CLIENT_ERRORS = (
    keystoneauth1.exceptions.ClientException,
    openstack.exceptions.SDKException,
    requests.RequestException,
)

# Authentication is one request or two, worth a few tries when Keystone is restarting or
# overloaded: waits of about 0.5, 1 and 2 s (scaled by [0.5, 1] for jitter).
AUTH_RETRY = RetryPolicy(attempts=4, base=0.5, cap=2.0, retry_after_cap=5.0)
# A Keystone that did not answer within the timeout gets one more chance, not three: each
# try costs a whole timeout.
AUTH_TIMEOUT_ATTEMPTS = 2

# keystoneauth logs a warning when version discovery fails and it falls back to the version in
# auth_url; with no logging configured Python prints it on stderr, a second line next to our
# one-line error. A NullHandler silences only that fallback print: configured logging still
# gets the record.
logging.getLogger("keystoneauth").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class OpenedCloud:
    """An authenticated connection scoped to ``project_id``, and Glance's v2 root URL."""

    connection: Any
    project_id: str
    glance_endpoint: str


# Reading the configuration


def config_search(
    environ: Mapping[str, str] | None = None, *, directories: Sequence[str] | None = None
) -> ConfigSearch:
    """The files openstacksdk searches, as openstack/config/loader.py builds them: its own
    lists (the current directory, the user's and the site's config directories,
    ~/.config/openstack, /etc/openstack, each with .yaml, .yml and .json), or those names in
    ``directories``; OS_CLIENT_CONFIG_FILE and OS_CLIENT_SECURE_FILE from ``environ`` (default
    os.environ) first."""
    environ = os.environ if environ is None else environ
    loader = openstack.config.loader
    if directories is None:
        clouds, secure, vendor = loader.CONFIG_FILES, loader.SECURE_FILES, loader.VENDOR_FILES
    else:
        suffixes = loader.YAML_SUFFIXES + loader.JSON_SUFFIXES

        def named(stem: str) -> list[str]:
            return [os.path.join(d, stem + s) for d in directories for s in suffixes]

        clouds, secure, vendor = named("clouds"), named("secure"), named("clouds-public")
    clouds_override = environ.get("OS_CLIENT_CONFIG_FILE") or None
    secure_override = environ.get("OS_CLIENT_SECURE_FILE") or None
    return ConfigSearch(
        clouds=tuple([clouds_override] if clouds_override else []) + tuple(clouds),
        secure=tuple([secure_override] if secure_override else []) + tuple(secure),
        vendor=tuple(vendor),
        clouds_override=clouds_override,
        secure_override=secure_override,
    )


def load_cloud_region(
    cloud: str,
    *,
    timeout: float,
    search: ConfigSearch | None = None,
    region: str | None = None,
) -> Any:
    """openstacksdk's CloudRegion for the clouds.yaml entry ``cloud``, every request of it
    bounded by ``timeout`` seconds (openstacksdk's api_timeout: the session's timeout, which
    keystoneauth also applies to the authentication requests). No request is made.

    The files come from ``search`` (default: ``config_search()``, openstacksdk's own search);
    ``region`` overrides the entry's region_name, also with a region the entry does not list
    (its ``regions:``). Any of them that openstacksdk would read but
    skip (unreadable, invalid YAML or JSON), an
    entry that is not a mapping, an unknown cloud, and openstacksdk's own configuration errors
    are CloudErrors naming the file, and openstacksdk is given exactly the checked files, so
    it never falls through to another one."""
    search = search or config_search()
    files = check_config_files(cloud, search)
    try:
        config = openstack.config.OpenStackConfig(
            config_files=[files.clouds] if files.clouds else [],
            secure_files=[files.secure] if files.secure else [],
            vendor_files=[files.vendor] if files.vendor else [],
        )
        # With no clouds at all openstacksdk makes one named "defaults": not a user's cloud.
        known = [n for n in config.get_cloud_names() if n != "defaults" or n in files.names]
        if cloud not in known:
            raise CloudError(unknown_cloud(cloud, search, files.clouds, known))
        if region is None:
            return config.get_one(cloud=cloud, api_timeout=timeout)
        try:
            return config.get_one(cloud=cloud, region_name=region, api_timeout=timeout)
        except openstack.exceptions.ConfigException as error:
            if "not a valid region name" not in str(error):
                raise
        # openstacksdk takes only the regions the entry lists (regions:, else its region_name):
        # the entry's settings in another region are the same, with that region's endpoints.
        other = config.get_one(cloud=cloud, api_timeout=timeout)
        other.config["region_name"] = region
        return other
    except keystoneauth1.exceptions.MissingRequiredOptions as error:
        missing = ", ".join(f"auth.{option.dest}" for option in error.options)
        raise CloudError(
            f"cloud '{cloud}': its clouds.yaml entry lacks {missing}; add it"
        ) from error
    except keystoneauth1.exceptions.NoMatchingPlugin as error:
        raise CloudError(
            f"cloud '{cloud}': unknown auth_type '{error.name}' in its clouds.yaml entry"
        ) from error
    except CLIENT_ERRORS as error:
        raise CloudError(f"cloud '{cloud}': {' '.join(str(error).split())}") from error
    except TypeError as error:
        # keystoneauth's plugins take their required options as positional arguments.
        required = re.search(r"missing \d+ required positional arguments?: (.+)", str(error))
        if required is None:
            raise _unusable(cloud, files, error) from error
        names = ", ".join(f"auth.{name}" for name in re.findall(r"'(\w+)'", required.group(1)))
        raise CloudError(f"cloud '{cloud}': its clouds.yaml entry lacks {names}; add it") from error
    except (AttributeError, ValueError, KeyError) as error:
        # openstacksdk indexes the settings without checking their types; the shapes checked
        # above cover the usual mistakes, this catches the rest as what they are: bad input.
        raise _unusable(cloud, files, error) from error


def _unusable(cloud: str, files: ConfigFiles, error: Exception) -> CloudError:
    return CloudError(
        f"cloud '{cloud}': openstacksdk cannot use the settings in "
        f"{files.clouds or 'clouds.yaml'}: {type(error).__name__}: {error}"
    )


# Authenticating


def _auth_attempts(error: BaseException) -> int:
    """How many tries in all authentication gets when it fails with ``error``: a few for a
    fault that passes (a refused or reset connection, 429 or 5xx), two for a timeout (each
    try costs a whole timeout), one for anything a retry cannot fix (401, 403, 404, bad
    configuration, TLS)."""
    status = status_of(error)
    if status is not None:
        return AUTH_RETRY.attempts if status in API_TRANSIENT else 1
    if is_timeout(error):
        return AUTH_TIMEOUT_ATTEMPTS
    reason = connection_reason(error)
    if reason in (
        "connection refused",
        "connection reset",
        "the connection closed without an answer",
        "the connection closed before the end of the answer",
    ):
        return AUTH_RETRY.attempts
    return 1


def _discover_first(connection: Any) -> None:
    """Keystone's version discovery, done before the token request through the same cache,
    so that the plugin finds it done. keystoneauth's generic plugins treat a discovery that
    got no answer as "guess the version from the URL" and then wait for the token request
    too (two timeouts per try): here no answer is the failure of the try. A discovery that
    got an answer keystoneauth cannot use is left to its own fallback."""
    session = connection.session
    plugin = session.auth
    if not isinstance(plugin, keystoneauth1.identity.generic.base.BaseGenericPlugin):
        return
    try:
        plugin.get_discovery(session, plugin.auth_url, authenticated=False)
    except keystoneauth1.exceptions.HttpError as error:
        if error.http_status in API_TRANSIENT:
            raise
    except keystoneauth1.exceptions.DiscoveryFailure:
        pass


def _auth_failure(cloud: str, error: BaseException, auth_url: str, timeout: float) -> str:
    status = status_of(error)
    if status == 401:
        return (
            f"cloud '{cloud}': Keystone refused the credentials (HTTP 401): check "
            "username/password/project in clouds.yaml"
        )
    if status == 403:
        message = answer_text(response_of(error), "Forbidden")
        return (
            f"cloud '{cloud}': Keystone refused access (HTTP 403): {message}; check the user "
            "and project in clouds.yaml"
        )
    if isinstance(error, keystoneauth1.exceptions.DiscoveryFailure):
        reason = " ".join(str(error).split())[:200]
        return (
            f"cloud '{cloud}': no Keystone v3 API at {auth_url} ({reason}); check auth_url in "
            "clouds.yaml"
        )
    described = describe_failure(error, "Keystone", auth_url, timeout)
    not_keystone = status is not None and status not in API_TRANSIENT
    if not_keystone or isinstance(error, keystoneauth1.exceptions.InvalidResponse):
        return f"cloud '{cloud}': {described.rstrip('.')}; check auth_url in clouds.yaml"
    return f"cloud '{cloud}': {described}"


def _retry_after(error: BaseException) -> float | None:
    response = response_of(error)
    return parse_retry_after(response.headers.get("Retry-After")) if response else None


def _authenticate(
    cloud: str,
    connection: Any,
    timeout: float,
    budget: RetryBudget | None,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """The project id of a fresh token (None when it is not project-scoped), tried again
    under AUTH_RETRY on a fault that passes while the run's ``budget`` (None: no bound
    beyond AUTH_RETRY's) has retries left; the final failure is a CloudError."""
    auth = connection.config.config.get("auth") or {}
    auth_url = str(auth.get("auth_url") or "its auth_url")
    attempt = 1
    while True:
        try:
            _discover_first(connection)
            project_id: str | None = connection.current_project_id
            return project_id
        except CLIENT_ERRORS as error:
            if attempt >= _auth_attempts(error) or (budget is not None and not budget.take()):
                raise CloudError(_auth_failure(cloud, error, auth_url, timeout)) from error
            delay = AUTH_RETRY.delay(attempt, _retry_after(error))
        except Exception as error:
            # keystoneauth's generic password plugin raises a bare Exception when there is no
            # password; anything else is a bug and goes up as one.
            if type(error) is not Exception:
                raise
            raise CloudError(
                f"cloud '{cloud}': its clouds.yaml entry lacks auth.password; add it"
            ) from error
        sleep(delay)
        attempt += 1


def open_cloud(
    cloud: str, *, timeout: float, region: str | None = None, budget: RetryBudget | None = None
) -> OpenedCloud:
    """Authenticate with the clouds.yaml entry ``cloud``; every request of the connection,
    the authentication's included, gives up after ``timeout`` seconds without an answer.
    Authentication's retries are taken from the run's ``budget``.

    Every failure is a one-line CloudError starting ``cloud 'NAME':`` that says what to fix:
    the configuration file (see load_cloud_region), Keystone not reachable or not answering
    (after AUTH_RETRY's tries, one more only for a timeout), credentials refused, an auth_url
    that is not Keystone, a token without a project, no image endpoint."""
    config = load_cloud_region(cloud, timeout=timeout, region=region)
    try:
        connection = openstack.connection.Connection(config=config)
    except CLIENT_ERRORS as error:
        raise CloudError(f"cloud '{cloud}': {' '.join(str(error).split())}") from error
    try:
        project_id = _authenticate(cloud, connection, timeout, budget)
        if not project_id:
            raise CloudError(f"cloud '{cloud}': the credentials are not scoped to a project")
        return OpenedCloud(connection, project_id, _glance_v2_endpoint(cloud, connection))
    except BaseException:
        connection.close()
        raise


def _glance_v2_endpoint(cloud: str, connection: Any) -> str:
    """Glance's v2 root from clouds.yaml or the catalog. Taken as given rather than through
    openstacksdk's version discovery, which costs a request to Glance on every run."""
    config = connection.config
    try:
        endpoint = config.get_endpoint("image") or connection.session.get_endpoint(
            service_type="image",
            interface=config.get_interface("image"),
            region_name=config.get_region_name("image"),
        )
    except keystoneauth1.exceptions.EndpointNotFound as error:
        raise CloudError(
            f"cloud '{cloud}': Keystone's catalog has no {config.get_interface('image')} image "
            f"(Glance) endpoint in region '{config.get_region_name('image')}'; check "
            "region_name and interface in clouds.yaml"
        ) from error
    except CLIENT_ERRORS as error:
        raise CloudError(f"cloud '{cloud}': no image endpoint: {error}") from error
    if not endpoint:
        raise CloudError(f"cloud '{cloud}': the catalog has no image (Glance) endpoint")
    return f"{glance_root(str(endpoint))}/v2"
