# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The ledgers' invariants, checked against a database with set-based SQL.

An operator runs it after an incident (a killed worker, a restarted
PostgreSQL, a failed deployment)::

    ./dev check-invariants DB
    python installment_credit/tools/invariants.py -c odoo.conf -d DB

It prints each check, then each violation, and exits 1 when there is one.
Tests and scripts call :func:`check_invariants` with an environment.

Checked, from the definitions of the models:

- credit ledger: a grant's stored ``quantity_consumed`` is the sum of the
  allocations of its done consumptions; a done consumption is spent exactly
  by its allocations; a grant never spends more than its quantity, and its
  stored remaining units are ``quantity - consumed - cancelled``;
- idempotency: one consumption per (company, idempotency key);
- reminders: one claim per (rule, installment) and per (rule, invoice) (one
  email may carry several claims of a customer);
- plans: the installments of an active plan add up to its amount financed,
  what the plan has left is the invoice's residual, what a plan records as
  outside its installments is the invoice's residual minus the plan's, one
  active plan per invoice;
- prepaid balances: per prepaid customer, the balance the add-on reads
  (``res.partner._prepaid_get_amounts``) is the balance of the posted
  journal items (held on the prepayment account − receivable), and every
  posted entry is balanced;
- the add-on's scheduled actions: none is failing (``failure_count``).
"""

import sys

from odoo.tools import SQL


def _rows(env, query):
    env.cr.execute(query)
    return env.cr.fetchall()


def _credit_checks(env):
    # Tolerance: half the credit type's rounding (quantities are numeric).
    yield (
        "grant consumed units == allocations of its done consumptions",
        SQL(
            """
            SELECT g.id, g.quantity_consumed, COALESCE(a.quantity, 0)
              FROM credit_grant g
              JOIN credit_type t ON t.id = g.credit_type_id
              LEFT JOIN (
                    SELECT al.grant_id, SUM(al.quantity) AS quantity
                      FROM credit_consumption_allocation al
                      JOIN credit_consumption c ON c.id = al.consumption_id
                     WHERE c.state = 'done'
                  GROUP BY al.grant_id
                   ) a ON a.grant_id = g.id
             WHERE ABS(COALESCE(g.quantity_consumed, 0) - COALESCE(a.quantity, 0))
                   > COALESCE(t.rounding, 0.0001) / 2
          ORDER BY g.id
            """
        ),
        "grant {} says {} units consumed, its allocations {}",
    )
    yield (
        "done consumption == sum of its allocations",
        SQL(
            """
            SELECT c.id, c.quantity, COALESCE(SUM(al.quantity), 0)
              FROM credit_consumption c
              JOIN credit_type t ON t.id = c.credit_type_id
              LEFT JOIN credit_consumption_allocation al
                     ON al.consumption_id = c.id
             WHERE c.state = 'done'
          GROUP BY c.id, t.rounding
            HAVING ABS(c.quantity - COALESCE(SUM(al.quantity), 0))
                   > COALESCE(t.rounding, 0.0001) / 2
          ORDER BY c.id
            """
        ),
        "consumption {} of {} units is allocated {}",
    )
    yield (
        "allocation state == its consumption's state",
        SQL(
            """
            SELECT al.id, al.state, c.state
              FROM credit_consumption_allocation al
              JOIN credit_consumption c ON c.id = al.consumption_id
             WHERE al.state IS DISTINCT FROM c.state
          ORDER BY al.id
            """
        ),
        "allocation {} is {}, its consumption {}",
    )
    yield (
        "grant: consumed + cancelled <= quantity, remaining = the rest",
        SQL(
            """
            SELECT g.id, g.quantity, g.quantity_consumed,
                   COALESCE(g.quantity_cancelled, 0), g.quantity_remaining
              FROM credit_grant g
              JOIN credit_type t ON t.id = g.credit_type_id
             WHERE COALESCE(g.quantity_consumed, 0)
                   + COALESCE(g.quantity_cancelled, 0)
                   > g.quantity + COALESCE(t.rounding, 0.0001) / 2
                OR ABS(COALESCE(g.quantity_remaining, 0) - (g.quantity
                       - COALESCE(g.quantity_consumed, 0)
                       - COALESCE(g.quantity_cancelled, 0)))
                   > COALESCE(t.rounding, 0.0001) / 2
          ORDER BY g.id
            """
        ),
        "grant {}: quantity {}, consumed {}, cancelled {}, remaining {}",
    )
    yield (
        "one consumption per idempotency key",
        SQL(
            """
            SELECT company_id, idempotency_key, COUNT(*),
                   ARRAY_AGG(id ORDER BY id)
              FROM credit_consumption
             WHERE idempotency_key IS NOT NULL
          GROUP BY company_id, idempotency_key
            HAVING COUNT(*) > 1
            """
        ),
        "company {}: key {!r} applied {} times (consumptions {})",
    )


def _reminder_checks(env):
    for target in ("plan_line_id", "invoice_id"):
        yield (
            f"reminder claimed at most once per (rule, {target})",
            SQL(
                """
                SELECT rule_id, %(target)s, COUNT(*), ARRAY_AGG(id ORDER BY id)
                  FROM installment_reminder_log
                 WHERE %(target)s IS NOT NULL
              GROUP BY rule_id, %(target)s
                HAVING COUNT(*) > 1
                """,
                target=SQL.identifier(target),
            ),
            "rule {} and " + target + " {} claimed {} times (logs {})",
        )


def _plan_checks(env):
    yield (
        "active plan: installments add up to the amount financed",
        SQL(
            """
            SELECT p.id, p.amount_total, COALESCE(SUM(l.amount), 0)
              FROM installment_plan p
              JOIN res_currency cur ON cur.id = p.currency_id
              LEFT JOIN installment_plan_line l ON l.plan_id = p.id
             WHERE p.state = 'active'
          GROUP BY p.id, cur.rounding
            HAVING ABS(p.amount_total - COALESCE(SUM(l.amount), 0))
                   > cur.rounding / 2
          ORDER BY p.id
            """
        ),
        "plan {} finances {}, its installments add up to {}",
    )
    yield (
        "active plan: what is left == the invoice's residual",
        SQL(
            """
            SELECT p.id, m.id, p.amount_residual, m.amount_residual
              FROM installment_plan p
              JOIN account_move m ON m.id = p.move_id
              JOIN res_currency cur ON cur.id = p.currency_id
             WHERE p.state = 'active'
               AND m.state = 'posted'
               AND ABS(COALESCE(p.amount_residual, 0)
                       - COALESCE(m.amount_residual, 0)) > cur.rounding / 2
          ORDER BY p.id
            """
        ),
        "plan {} of invoice {} has {} left, the invoice {}",
    )
    yield (
        "plan: what is outside the installments == invoice residual - plan's",
        SQL(
            """
            SELECT p.id, p.amount_uncovered,
                   COALESCE(m.amount_residual, 0) - COALESCE(p.amount_residual, 0)
              FROM installment_plan p
              JOIN account_move m ON m.id = p.move_id
              JOIN res_currency cur ON cur.id = p.currency_id
             WHERE p.state != 'cancelled'
               AND ABS(COALESCE(p.amount_uncovered, 0)
                       - (COALESCE(m.amount_residual, 0)
                          - COALESCE(p.amount_residual, 0))) > cur.rounding / 2
          ORDER BY p.id
            """
        ),
        "plan {} says {} is outside its installments, the invoice {}",
    )
    yield (
        "one active plan per invoice",
        SQL(
            """
            SELECT move_id, ARRAY_AGG(id ORDER BY id)
              FROM installment_plan
             WHERE state = 'active'
          GROUP BY move_id
            HAVING COUNT(*) > 1
            """
        ),
        "invoice {} has several active plans {}",
    )


def _ledger_checks(env):
    yield (
        "every posted journal entry is balanced",
        SQL(
            """
            SELECT m.id, m.name, SUM(l.balance)
              FROM account_move m
              JOIN account_move_line l ON l.move_id = m.id
              JOIN res_company co ON co.id = m.company_id
              JOIN res_currency cur ON cur.id = co.currency_id
             WHERE m.state = 'posted'
          GROUP BY m.id, m.name, cur.rounding
            HAVING ABS(SUM(l.balance)) > cur.rounding / 2
          ORDER BY m.id
            """
        ),
        "entry {} ({}) is off by {}",
    )


def _prepaid_violations(env):
    """Per company with a prepayment account: the prepaid customers' balance
    as the add-on reads it vs the posted journal items, one query each."""
    violations = []
    companies = env["res.company"].search([("prepayment_account_id", "!=", False)])
    for company in companies:
        partners = (
            env["res.partner"]
            .with_company(company)
            .with_context(active_test=False)
            .search([("billing_mode", "=", "prepaid")])
            .commercial_partner_id
        )
        if not partners:
            continue
        env["account.move.line"].flush_model()
        ledger = dict.fromkeys(partners.ids, 0.0)
        for partner_id, balance in _rows(
            env,
            SQL(
                """
                SELECT p.commercial_partner_id,
                       SUM(CASE WHEN l.account_id = %(account)s
                                THEN -l.balance ELSE 0 END)
                     - SUM(CASE WHEN a.account_type = 'asset_receivable'
                                 AND l.account_id != %(account)s
                                THEN l.balance ELSE 0 END)
                  FROM account_move_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN account_account a ON a.id = l.account_id
                  JOIN res_partner p ON p.id = l.partner_id
                 WHERE m.state = 'posted'
                   AND l.company_id = %(company)s
                   AND p.commercial_partner_id IN %(partners)s
                   AND (l.account_id = %(account)s
                        OR a.account_type = 'asset_receivable')
              GROUP BY p.commercial_partner_id
                """,
                account=company.prepayment_account_id.id,
                company=company.id,
                partners=tuple(partners.ids),
            ),
        ):
            ledger[partner_id] = balance
        amounts = partners._prepaid_get_amounts(company)
        currency = company.currency_id
        for partner_id, balance in sorted(ledger.items()):
            read = amounts.get(partner_id, {}).get("balance", 0.0)
            if currency.compare_amounts(read, balance):
                violations.append(
                    f"company {company.id}, customer {partner_id}: prepaid "
                    f"balance {read} but the ledger says {currency.round(balance)}"
                )
    return violations


def _cron_checks(env):
    yield (
        "the add-on's scheduled actions are not failing",
        SQL(
            """
            SELECT c.id, s.name->>'en_US', c.failure_count, c.first_failure_date
              FROM ir_cron c
              JOIN ir_act_server s ON s.id = c.ir_actions_server_id
              JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id
             WHERE d.module = 'installment_credit'
               AND c.failure_count > 0
          ORDER BY c.id
            """
        ),
        "cron {} ({}) failed {} times in a row since {}",
    )


def _cron_states(env):
    return _rows(
        env,
        SQL(
            """
            SELECT d.name, c.active, c.lastcall, c.nextcall, c.failure_count
              FROM ir_cron c
              JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id
             WHERE d.module = 'installment_credit'
          ORDER BY d.name
            """
        ),
    )


def check_invariants(env, out=None):
    """Run every check; return ``{check name: [violation, ...]}`` (every
    check is a key, an empty list when it holds). With ``out`` (a callable
    taking a line), print each check, its violations and the scheduled
    actions' last runs."""
    # Every company and customer: the checks read the whole database.
    env = env(su=True)
    env.flush_all()
    results = {}
    for group in (
        _credit_checks,
        _reminder_checks,
        _plan_checks,
        _ledger_checks,
        _cron_checks,
    ):
        for name, query, message in group(env):
            results[name] = [message.format(*row) for row in _rows(env, query)]
    results["prepaid balance == ledger, per prepaid customer"] = _prepaid_violations(
        env
    )
    if out:
        for name, violations in results.items():
            out(f"{'FAIL' if violations else 'ok  '}  {name}")
            for violation in violations[:50]:
                out(f"        {violation}")
            if len(violations) > 50:
                out(f"        ... and {len(violations) - 50} more")
        out("scheduled actions (last run, next run, consecutive failures):")
        for name, active, lastcall, nextcall, failures in _cron_states(env):
            out(
                f"        {name}: {'active' if active else 'inactive'}, last "
                f"{lastcall or 'never'}, next {nextcall}, failures {failures}"
            )
    return results


def _say(line):
    sys.stdout.write(f"{line}\n")


def main(argv):
    import argparse

    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--config", required=True, help="Odoo configuration")
    parser.add_argument("-d", "--database", required=True)
    args = parser.parse_args(argv)
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    with Registry(args.database).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        _say(f"invariants of database {args.database}:")
        results = check_invariants(env, out=_say)
        cr.rollback()
    failed = sum(len(v) for v in results.values())
    _say(
        f"{failed} violation(s) in {sum(1 for v in results.values() if v)} "
        f"of {len(results)} checks"
        if failed
        else f"all {len(results)} checks hold"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
