"""Config file templates for the local Keystone + Glance (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

REGION = "RegionOne"
# The second region's Glance (regions.py), behind the same Keystone.
REGION_TWO = "RegionTwo"
# glance-download (Glance pulls an image from the Glance of another region, with the user's
# token and Keystone's catalog) is enabled everywhere: it costs nothing where unused.
IMPORT_METHODS = "[glance-direct,web-download,copy-image,glance-download]"


def keystone_conf(*, run: Path, db: Path) -> str:
    ks = run / "keystone"
    return f"""\
[DEFAULT]
debug = false
use_stderr = true

[database]
connection = sqlite:///{db}

[token]
provider = fernet
# tokens are re-fetched by keystoneauth when they expire; long enough for a
# whole test session anyway
expiration = 43200

[fernet_tokens]
key_repository = {ks / "fernet-keys"}
max_active_keys = 3

[fernet_receipts]
key_repository = {ks / "fernet-receipts"}
max_active_keys = 3

[credential]
key_repository = {ks / "credential-keys"}

[identity]
# bcrypt's default 12 rounds cost ~0.25 s per password check
password_hash_rounds = 4

[cache]
# without it: ~300 SQL queries / ~230 ms per authenticated request.
# In-process memory cache is only safe because there is exactly ONE worker.
enabled = true
backend = dogpile.cache.memory

[oslo_concurrency]
lock_path = {ks / "locks"}
"""


def glance_api_conf(
    *,
    run: Path,
    db: Path,
    glance_url: str,
    keystone_url: str,
    service_password: str,
    allowed_ports: list[int],
    connection: str | None = None,
    name: str = "glance",
    stores: tuple[str, ...] | None = None,
) -> str:
    """``connection``: a SQLAlchemy URL (PostgreSQL mode); default sqlite at ``db``. ``name``:
    the folder under ``run`` of this Glance's files. ``stores``: file stores (multi-store,
    the first one the default, each in its own folder, see ``store_dirs``); None for the one
    store ``fs``; () for no multi-store backends at all (Glance's legacy single store)."""
    gl = run / name
    ports = ",".join(str(p) for p in allowed_ports)
    if connection:
        database = f"connection = {connection}\n"
    else:
        database = f"connection = sqlite:///{db}\nsqlite_synchronous = false\n"
    backends, store_sections = _stores_conf(gl, stores)
    return f"""\
[DEFAULT]
debug = false
use_stderr = true
{backends}enabled_import_methods = {IMPORT_METHODS}
worker_self_reference_url = {glance_url}
public_endpoint = {glance_url}
hashing_algorithm = sha512
limit_param_default = 25
api_limit_max = 1000
delayed_delete = false
image_cache_dir = {gl / "image-cache"}

[database]
{database}
{store_sections}
[paste_deploy]
flavor = keystone
config_file = {gl / "glance-api-paste.ini"}

[keystone_authtoken]
www_authenticate_uri = {keystone_url}/v3
auth_url = {keystone_url}/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = {service_password}
region_name = {REGION}
interface = public
service_token_roles_required = true
memcached_servers =

[oslo_policy]
enforce_new_defaults = true

[import_filtering_opts]
# The brackets are mandatory: without them the value fails to parse, the
# error is swallowed and every web-download URI gets 400 "does not pass
# filtering".
allowed_hosts = [127.0.0.1]
allowed_ports = [{ports}]

[oslo_concurrency]
lock_path = {gl / "locks"}
"""


def store_dirs(gl: Path, stores: tuple[str, ...] | None) -> dict[str, Path]:
    """Store name -> its data folder, for the stores of ``glance_api_conf``."""
    if stores is None:
        return {"fs": gl / "images"}
    if not stores:
        return {"file": gl / "images"}
    return {store: gl / f"images-{store}" for store in stores}


def _stores_conf(gl: Path, stores: tuple[str, ...] | None) -> tuple[str, str]:
    """([DEFAULT]'s enabled_backends line, the store sections) for ``glance_api_conf``."""
    dirs = store_dirs(gl, stores)
    if stores == ():
        # No enabled_backends: Glance's legacy single store (GET /v2/info/stores: 404).
        return (
            f"node_staging_uri = file://{gl / 'staging'}\n",
            f"""[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = {dirs["file"]}/
""",
        )
    enabled = ", ".join(f"{store}:file" for store in dirs)
    sections = [f"[glance_store]\ndefault_backend = {next(iter(dirs))}\n"]
    sections += [
        f"[{store}]\nfilesystem_store_datadir = {folder}/\n" for store, folder in dirs.items()
    ]
    sections += [
        f"[os_glance_staging_store]\nfilesystem_store_datadir = {gl / 'staging'}/\n",
        f"[os_glance_tasks_store]\nfilesystem_store_datadir = {gl / 'tasks'}/\n",
    ]
    return f"enabled_backends = {enabled}\n", "\n".join(sections)


def glance_paste_ini(*, run: Path, name: str = "glance") -> str:
    gl = run / name
    return f"""\
# Own paste pipeline: keystone auth (the shipped default flavor is no-auth,
# which makes every request an admin with no project -> owner=null).
[composite:glance-api-keystone]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck

[pipeline:api]
pipeline = http_proxy_to_wsgi versionnegotiation authtoken context rootapp

[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app

[app:apiversions]
paste.app_factory = glance.api.versions:create_resource

[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory

[app:healthcheck]
paste.app_factory = oslo_middleware:Healthcheck.app_factory
backends = disable_by_file
disable_by_file_path = {gl / "healthcheck_disable"}

[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware:HTTPProxyToWSGI.factory

[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:VersionNegotiationFilter.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true

[filter:context]
paste.filter_factory = glance.api.middleware.context:ContextMiddleware.factory
"""


def clouds_yaml(
    *,
    keystone_url: str,
    clouds: dict[str, tuple[str, str, str]],
    image_endpoint: str | None = None,
    region_clouds: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """clouds: name -> (username, password, project_name). ``image_endpoint``: a Glance other
    than the one in Keystone's catalog (image_endpoint_override). ``region_clouds``: further
    entries, name -> (an entry of ``clouds``, region_name): its credentials in that region."""
    out = ["# Generated by tests/localcloud; do not edit.", "clouds:"]
    entries = {name: (*creds, REGION) for name, creds in clouds.items()}
    for name, (base, region) in (region_clouds or {}).items():
        entries[name] = (*clouds[base], region)
    for name, (user, password, project, region) in entries.items():
        out += [
            f"  {name}:",
            "    auth_type: password",
            "    auth:",
            f"      auth_url: {keystone_url}/v3",
            f'      username: "{user}"',
            f'      password: "{password}"',
            f'      project_name: "{project}"',
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            f"    region_name: {region}",
            "    identity_api_version: 3",
            "    interface: public",
        ]
        if image_endpoint:
            out.append(f"    image_endpoint_override: {image_endpoint}")
    return "\n".join(out) + "\n"
