"""catalog.load with ${VAR} in source urls: the schema accepts references, an unset or malformed
one is a diagnostic at the url, the catalog keeps the url as written (and its digest the bytes),
and no diagnostic shows a credential in either of its forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.diagnostics import ManifestInvalid, diagnostics_as_json
from catalog.load import check_catalog, load_catalog
from catalog.schema import is_valid
from tests.unit.catalog.test_load import SHA, write

USER_URL = "https://${MIRROR_USER}:${MIRROR_TOKEN}@mirror.example/u.qcow2"
SIGNED_URL = "https://mirror.example/x.qcow2?${SIGNED_QUERY}"
ENV = {"MIRROR_USER": "mirror-bot", "MIRROR_TOKEN": "tok-4f9a1c", "SIGNED_QUERY": "X-Sig=abcd"}
HINT = "export it before running glance-catalog; the manifest keeps only the reference"


def manifest(folder: Path, *urls: str) -> Path:
    """Images a0, a1, ... at lines 4, 7, ...; each url at column 12 of the line below."""
    images = "".join(
        f"  - name: a{index}\n    source:\n      url: '{url}'\n      checksum: {SHA}\n"
        "    disk_format: raw\n"
        for index, url in enumerate(urls)
    )
    return write(folder, "m.yaml", f"version: 1\ncatalog: c\nimages:\n{images}")


def lines(path: Path, environ: dict[str, str]) -> list[str]:
    result = check_catalog([path], environ=environ)
    assert result.catalog is None
    return [d.as_text().removeprefix(f"{path}:") for d in result.diagnostics]


@pytest.mark.parametrize("url", [USER_URL, SIGNED_URL, "https://${MIRROR_HOST}/${PATH}/x.img"])
def test_the_schema_accepts_references_in_a_url(url: str) -> None:
    document = {
        "version": 1,
        "catalog": "c",
        "images": [{"name": "a", "source": {"url": url, "checksum": SHA}}],
    }
    assert is_valid(document)


def test_a_catalog_with_references_keeps_the_urls_as_written(tmp_path: Path) -> None:
    path = manifest(tmp_path, USER_URL, SIGNED_URL, "https://mirror/$${LITERAL}/$HOME.img")
    catalog = load_catalog([path], environ=ENV)
    sources = [image.source for image in catalog.images]
    assert [source.url for source in sources if source] == [
        USER_URL,
        SIGNED_URL,
        "https://mirror/$${LITERAL}/$HOME.img",
    ]
    assert [source.location for source in sources if source] == [
        "https://***@mirror.example/u.qcow2",
        "https://mirror.example/x.qcow2?***",
        "https://mirror/$${LITERAL}/$HOME.img",
    ]
    # The digest hashes the manifest's bytes: the environment does not change it.
    other = load_catalog([path], environ={key: value + "x" for key, value in ENV.items()})
    assert other.digest == catalog.digest


def test_an_unset_variable_is_an_error_at_the_url_naming_it_and_the_image(
    tmp_path: Path,
) -> None:
    path = manifest(tmp_path, USER_URL, SIGNED_URL, "https://${MIRROR_TOKEN}@m/${MIRROR_TOKEN}")
    assert lines(path, {"MIRROR_USER": "mirror-bot"}) == [
        f"6:12: image 'a0': source.url: environment variable 'MIRROR_TOKEN' is not set "
        f"(hint: {HINT})",
        f"11:12: image 'a1': source.url: environment variable 'SIGNED_QUERY' is not set "
        f"(hint: {HINT})",
        # Referenced twice, reported once.
        f"16:12: image 'a2': source.url: environment variable 'MIRROR_TOKEN' is not set "
        f"(hint: {HINT})",
    ]


def test_validation_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = manifest(tmp_path, "https://mirror/x?${GC_TEST_SIGNED}")
    monkeypatch.delenv("GC_TEST_SIGNED", raising=False)
    with pytest.raises(ManifestInvalid, match="'GC_TEST_SIGNED' is not set"):
        load_catalog([path])
    monkeypatch.setenv("GC_TEST_SIGNED", "sig=1")
    assert load_catalog([path]).images[0].source is not None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://mirror/${", "'${' at character 16 is not closed by '}'"),
        ("https://mirror/${1X}.img", "'${1X}' at character 16 is not a variable name"),
        ("https://mirror/${}.img", "'${}' at character 16 names no variable"),
        ("https://mirror/${A:-b}.img", "'${A...}' at character 16: only ${NAME} is supported"),
    ],
)
def test_a_malformed_reference_is_an_error_at_the_url(
    tmp_path: Path, url: str, message: str
) -> None:
    path = manifest(tmp_path, url)
    (line,) = lines(path, ENV)
    assert line.startswith(f"6:12: image 'a0': source.url: {message}"), line
    assert "(hint: write ${NAME}, NAME being letters, digits and _" in line


def test_a_reference_in_a_flow_mapping_is_placed_at_its_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        f"""
        version: 1
        catalog: c
        images:
          - name: flow
            disk_format: raw
            source: {{checksum: "{SHA}", url: "https://m/x?${{NOPE}}"}}
        """,
    )
    assert lines(path, {}) == [
        f"6:104: image 'flow': source.url: environment variable 'NOPE' is not set (hint: {HINT})"
    ]


def test_no_diagnostic_shows_a_credential_written_in_the_manifest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.yaml",
        f"""
        version: 1
        catalog: c
        images:
          - name: scheme-typo
            disk_format: raw
            source: {{url: "htps://bob:hunter22@mirror/x?sig=s3cr3t", checksum: "{SHA}"}}
          - name: ftp
            disk_format: raw
            source: {{url: "ftp://bob:hunter22@mirror/x?sig=s3cr3t", checksum: "{SHA}"}}
          - name: semantic
            disk_format: raw
            source: {{url: "https://bob:hunter22@mirror/x?sig=s3cr3t", checksum: "md5:ab"}}
            visibility: publc
        """,
    )
    result = check_catalog([path], environ={})
    texts = [d.as_text().removeprefix(f"{path}:") for d in result.diagnostics]
    assert texts == [
        "6:19: image 'scheme-typo': source.url: 'htps://***@mirror/x?***': "
        "the URL scheme must be http or https",
        "9:19: image 'ftp': source.url: 'ftp://***@mirror/x?***': "
        "the URL scheme must be http or https",
        "12:73: image 'semantic': source.checksum: algorithm 'md5' is not accepted "
        "(hint: use sha256 or sha512; md5 and sha1 do not protect against tampering)",
        "13:17: image 'semantic': visibility: 'publc' is not one of public, private, shared, "
        "community",
    ]
    as_json = diagnostics_as_json(result.diagnostics)
    shown = " ".join([*texts, as_json, str(ManifestInvalid(result.diagnostics))])
    for secret in ("hunter22", "s3cr3t", "bob"):
        assert secret not in shown
    assert json.loads(as_json)["errors"][0]["message"].startswith("'htps://***@mirror/x?***'")
