"""Uninstall installment_credit from a database and report what it left behind.

Run by tests/test_module.py in a subprocess (uninstalling reloads the registry,
which cannot happen inside the test transaction). Prints one JSON object.
"""

import json
import sys

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

conf, db = sys.argv[1], sys.argv[2]
odoo.tools.config.parse_config(["-c", conf, "-d", db, "--log-level=critical"])

with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    module = env["ir.module.module"].search([("name", "=", "installment_credit")])
    module.button_immediate_uninstall()

with Registry(db).cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {})
    module = env["ir.module.module"].search([("name", "=", "installment_credit")])
    cr.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name LIKE 'installment\\_%%' OR table_name LIKE 'credit\\_%%'"
    )
    tables = [row[0] for row in cr.fetchall()]
    dangling_menus = (
        env["ir.ui.menu"]
        .search([])
        .filtered(lambda m: m.action and not m.action.exists())
    )
    print(
        json.dumps(
            {
                "state": module.state,
                "xmlids": env["ir.model.data"]
                .search([("module", "=", "installment_credit")])
                .mapped(lambda d: f"{d.model},{d.name}"),
                "models": env["ir.model"]
                .search(
                    [
                        "|",
                        ("model", "=like", "installment.%"),
                        ("model", "=like", "credit.%"),
                    ]
                )
                .mapped("model"),
                "tables": tables,
                "dangling_menus": dangling_menus.mapped("complete_name"),
                "menus": env["ir.ui.menu"].search_count(
                    [("name", "in", ["Installments", "Credits"])]
                ),
            }
        )
    )
