"""One-shot Keystone initialisation (runs inside the SERVICE venv).

Usage: python keystone_init.py KEYSTONE_CONF JSON_ARGS

Runs ``keystone-manage`` db_sync, fernet_setup, credential_setup and
bootstrap in ONE interpreter (each separate keystone-manage costs ~2.5 s of
imports).  JSON_ARGS is a JSON list of argument lists (without the leading
"keystone-manage --config-file CONF").  If this script fails, the harness
falls back to running the keystone-manage binary once per command.
"""

import json
import sys

from keystone.cmd import cli
from oslo_config import cfg


def main() -> None:
    conf = sys.argv[1]
    commands = json.loads(sys.argv[2])
    for args in commands:
        cli.main(argv=["keystone-manage", "--config-file", conf, *args])
        # cli.main registers CLI opts and parses argv on the global CONF:
        # forget both so that the next command can do it again.
        cfg.CONF.reset()
        cfg.CONF.clear()


if __name__ == "__main__":
    main()
