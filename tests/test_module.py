import json
import os
import subprocess
import sys

from odoo.tests import TransactionCase, tagged
from odoo.tools import config


@tagged("post_install", "-at_install")
class TestModuleInstalled(TransactionCase):
    def test_installed_with_groups(self):
        module = self.env["ir.module.module"].search(
            [("name", "=", "installment_credit")]
        )
        self.assertEqual(module.state, "installed")
        user_group = self.env.ref("installment_credit.group_installment_user")
        manager_group = self.env.ref("installment_credit.group_installment_manager")
        self.assertIn(
            user_group, self.env.ref("account.group_account_invoice").implied_ids
        )
        self.assertIn(user_group, manager_group.implied_ids)

    def test_every_model_has_access_rows(self):
        model_ids = (
            self.env["ir.model.data"]
            .search([("module", "=", "installment_credit"), ("model", "=", "ir.model")])
            .mapped("res_id")
        )
        models = self.env["ir.model"].search(
            [("id", "in", model_ids), ("transient", "=", False)]
        )
        # Abstract models (services such as installment.reminder.run) have no
        # table and no records to protect.
        own = models.filtered(
            lambda m: (
                m.model.startswith(("installment.", "credit."))
                and not self.env[m.model]._abstract
            )
        )
        for model in own:
            self.assertTrue(
                model.access_ids, f"{model.model} has no ir.model.access rows"
            )

    def test_uninstall_leaves_nothing(self):
        """The add-on uninstalls cleanly from a copy of the test database.

        ``./dev test`` prepares that copy (IC_UNINSTALL_DB) before pytest starts.
        """
        db = os.environ.get("IC_UNINSTALL_DB")
        self.assertTrue(db, "IC_UNINSTALL_DB is not set: run the tests with ./dev test")
        script = os.path.join(os.path.dirname(__file__), "uninstall_check.py")
        result = subprocess.run(
            [sys.executable, script, config.rcfile, db],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        report = json.loads(result.stdout.strip().splitlines()[-1])
        self.assertEqual(report["state"], "uninstalled")
        # Posted journal entries of the demo data are kept by accounting rules
        # (posted entries are never deleted); nothing else may remain.
        self.assertEqual(
            [x for x in report["xmlids"] if not x.startswith("account.move,")], []
        )
        self.assertEqual(report["models"], [])
        self.assertEqual(report["tables"], [])
        self.assertEqual(report["dangling_menus"], [])
