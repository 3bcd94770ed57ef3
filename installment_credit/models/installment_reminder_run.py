import logging
from collections import defaultdict
from functools import partial

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL

from .installment_reminder_log import ReminderFormatter

_logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


class InstallmentReminderRun(models.AbstractModel):
    """The reminder run: collect what the rules make due, claim it in the
    send log (exactly once per rule and target), email each customer once,
    note it in the chatter and schedule the follow-up to-dos. Used by the
    daily scheduled action and by *Send Reminder Now*; the rules themselves
    (``installment.reminder.rule``) are configuration only."""

    _name = "installment.reminder.run"
    _description = "Reminder run"

    # ------------------------------------------------------------------
    # The daily run
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_reminders(self, today=None, batch_size=None):
        """Send every reminder that fell due, at most once per (rule, target).

        Customers with something due are counted per company first, then
        handled in batches of about ``batch_size`` targets (a customer is
        never split across batches, so it gets one email). Each batch
        collects its own candidates just before sending, so the amounts
        emailed are current even when earlier batches took a while. A batch
        runs in a savepoint: a customer whose reminder fails (a template
        that does not render...) is skipped, noted in its chatter, and sent
        by the next run. When run by the scheduler, each batch is committed
        and progress is reported to ``ir.cron``; the action ends as failed
        when a customer was skipped.

        :return: the number of targets handled (sent or superseded)
        """
        today = fields.Date.to_date(today) if today else fields.Date.context_today(self)
        batch_size = batch_size or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("installment_credit.reminder_batch_size", DEFAULT_BATCH_SIZE)
        )
        guard = self.env["installment.batch.guard"]
        auto_commit = guard._auto_commit()
        batches = []
        for company in self.env["res.company"].sudo().search([]):
            counts = self.with_company(company)._collect_candidates(
                today, company, count=True
            )
            batch, size = [], 0
            for partner_id in sorted(counts):
                batch.append(partner_id)
                size += counts[partner_id]
                if size >= batch_size:
                    batches.append((company, batch, size))
                    batch, size = [], 0
            if batch:
                batches.append((company, batch, size))
        total = sum(size for _company, _batch, size in batches)
        done = 0
        failures = []
        cron = self.env["ir.cron"]
        cron._notify_progress(done=0, remaining=total)
        for company, partner_ids, size in batches:
            run = self.with_company(company)
            candidates = run._collect_candidates(
                today, company, partner_ids=partner_ids
            )
            per_partner = defaultdict(list)
            for candidate in candidates:
                per_partner[candidate["partner_id"]].append(candidate)

            failures += guard._run_isolated(
                self.env["res.partner"].browse(sorted(per_partner)),
                partial(run._process_partners, per_partner, today),
                _("Payment reminder"),
            )
            done += size
            cron._notify_progress(done=done, remaining=total - done)
            if auto_commit:
                # a crash or a timeout loses at most this batch; what is
                # committed is in the send log and never sent again
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if total:
            _logger.info("Installment reminders: %s targets handled", total)
        guard._raise_if_skipped(failures, _("Payment reminders"), done=done)
        return done

    def _process_partners(self, per_partner, today, partners):
        """Process the candidates of these customers (``per_partner``: the
        batch's candidates per customer id)."""
        self._process_candidates(
            [c for partner in partners for c in per_partner[partner.id]], today
        )

    def _collect_candidates(
        self,
        today,
        company,
        plan_lines=None,
        invoices=None,
        partner_ids=None,
        count=False,
    ):
        """(rule, target) pairs of ``company`` due by ``today`` and not logged.

        ``plan_lines``/``invoices`` restrict the search (manual send),
        ``partner_ids`` to these customers (a batch of the run). Returns
        dicts with the rule, the target and what the email and the log need;
        with ``count``, ``{partner id: number of pairs}`` instead.
        """
        rows = []
        counts = defaultdict(int)

        def fetch(query):
            if not count:
                return self.env.execute_query_dict(query)
            for partner_id, number in self.env.execute_query(
                SQL(
                    "SELECT c.partner_id, COUNT(*) FROM (%s) c GROUP BY c.partner_id",
                    query,
                )
            ):
                counts[partner_id] += number
            return []

        partner_filter = SQL(
            "COALESCE(partner.installment_no_reminder, FALSE) = FALSE "
            "AND COALESCE(partner.email, '') != ''"
        )
        if invoices is None or plan_lines is not None:
            line_filter = SQL()
            if plan_lines is not None:
                line_filter = SQL("AND line.id IN %s", tuple(plan_lines.ids) or (0,))
            if partner_ids is not None:
                line_filter = SQL(
                    "%s AND line.partner_id = ANY(%s)", line_filter, list(partner_ids)
                )
            self.env["installment.plan.line"].flush_model()
            self.env["installment.reminder.rule"].flush_model()
            self.env["installment.reminder.log"].flush_model()
            self.env["res.partner"].flush_model(["installment_no_reminder", "email"])
            rows += fetch(
                SQL(
                    """
                SELECT rule.id AS rule_id, rule.offset_days, rule.sequence,
                       line.id AS target_id, line.partner_id, line.plan_id,
                       line.move_id, line.due_date, line.amount_residual,
                       line.currency_id,
                       (SELECT MAX(sent_rule.offset_days)
                          FROM installment_reminder_log sent
                          JOIN installment_reminder_rule sent_rule
                            ON sent_rule.id = sent.rule_id
                         WHERE sent.plan_line_id = line.id
                           AND sent.state = 'sent') AS sent_offset
                  FROM installment_reminder_rule rule
                  JOIN installment_plan_line line
                    ON line.company_id = %(company)s
                  JOIN res_partner partner ON partner.id = line.partner_id
                 WHERE rule.active
                   AND rule.target = 'installment'
                   AND (rule.company_id IS NULL OR rule.company_id = %(company)s)
                   AND line.plan_state = 'active'
                   AND line.state != 'paid'
                   AND line.amount_residual > 0
                   AND line.due_date + rule.offset_days <= %(today)s
                   AND %(partner_filter)s
                   %(line_filter)s
                   AND NOT EXISTS (
                        SELECT 1 FROM installment_reminder_log log
                         WHERE log.rule_id = rule.id AND log.plan_line_id = line.id)
                    """,
                    company=company.id,
                    today=today,
                    partner_filter=partner_filter,
                    line_filter=line_filter,
                )
            )
            for row in rows:
                row["kind"] = "installment"
        if plan_lines is None:
            move_filter = SQL()
            if invoices is not None:
                move_filter = SQL("AND move.id IN %s", tuple(invoices.ids) or (0,))
            if partner_ids is not None:
                move_filter = SQL(
                    "%s AND move.commercial_partner_id = ANY(%s)",
                    move_filter,
                    list(partner_ids),
                )
            self.env["account.move"].flush_model()
            self.env["account.move.line"].flush_model()
            self.env["installment.plan"].flush_model()
            prepaid = self._prepaid_partner_query()
            invoice_rows = fetch(
                SQL(
                    """
                SELECT rule.id AS rule_id, rule.offset_days, rule.sequence,
                       move.id AS target_id, move.commercial_partner_id AS partner_id,
                       NULL::integer AS plan_id, move.id AS move_id,
                       term.due_date, move.amount_residual, move.currency_id,
                       (SELECT MAX(sent_rule.offset_days)
                          FROM installment_reminder_log sent
                          JOIN installment_reminder_rule sent_rule
                            ON sent_rule.id = sent.rule_id
                         WHERE sent.invoice_id = move.id
                           AND sent.state = 'sent') AS sent_offset
                  FROM account_move move
                  JOIN res_partner partner ON partner.id = move.commercial_partner_id
                  JOIN LATERAL (
                        SELECT MIN(aml.date_maturity) AS due_date
                          FROM account_move_line aml
                         WHERE aml.move_id = move.id
                           AND aml.display_type = 'payment_term'
                           AND aml.amount_residual != 0
                  ) term ON term.due_date IS NOT NULL
                  JOIN installment_reminder_rule rule
                    ON rule.active
                   AND rule.target = 'invoice'
                   AND (rule.company_id IS NULL OR rule.company_id = move.company_id)
                 WHERE move.company_id = %(company)s
                   AND move.move_type = 'out_invoice'
                   AND move.state = 'posted'
                   AND move.amount_residual > 0
                   AND term.due_date + rule.offset_days <= %(today)s
                   AND %(partner_filter)s
                   AND move.commercial_partner_id NOT IN %(prepaid)s
                   %(move_filter)s
                   AND NOT EXISTS (
                        SELECT 1 FROM installment_plan plan
                         WHERE plan.move_id = move.id AND plan.state != 'cancelled')
                   AND NOT EXISTS (
                        SELECT 1 FROM installment_reminder_log log
                         WHERE log.rule_id = rule.id AND log.invoice_id = move.id)
                    """,
                    company=company.id,
                    today=today,
                    partner_filter=partner_filter,
                    prepaid=prepaid,
                    move_filter=move_filter,
                )
            )
            for row in invoice_rows:
                row["kind"] = "invoice"
            rows += invoice_rows
        if count:
            return dict(counts)
        for row in rows:
            row["company_id"] = company.id
        return rows

    @api.model
    def _prepaid_partner_query(self):
        """Sub-select of prepaid customers, who get no invoice reminders."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        return SQL(
            "(%s)",
            Partner._search([("billing_mode", "=", "prepaid")]).subselect(),
        )

    def _process_candidates(self, candidates, today, manual=False, email_options=None):
        """Claim, then send, the candidate reminders of one batch.

        ``email_options``: keyword arguments of :meth:`_send_reminder_emails`
        (a manual send chooses the template and lists more items).

        Per target only the rule with the largest offset is emailed; earlier
        rules due at the same time (a missed day, a plan created late) and
        rules older than one already sent are logged as superseded, so the
        customer never gets a stale "due in 7 days" after an overdue notice.

        :return: the ``installment.reminder.log`` rows written (sent ones
            carry the email and the chatter message)
        """
        per_target = defaultdict(list)
        for candidate in candidates:
            per_target[(candidate["kind"], candidate["target_id"])].append(candidate)
        for target_candidates in per_target.values():
            target_candidates.sort(
                key=lambda c: (c["offset_days"], -c["sequence"], -c["rule_id"])
            )
            best = target_candidates[-1]
            for candidate in target_candidates:
                candidate["state"] = (
                    "sent"
                    if candidate is best
                    and (
                        candidate["sent_offset"] is None
                        or candidate["offset_days"] > candidate["sent_offset"]
                    )
                    else "skipped"
                )
        logs = self._claim_reminders(candidates, today, manual)
        sent = logs.filtered(lambda log: log.state == "sent")
        if sent:
            # the email and the chatter note of each log, in one UPDATE
            mail_links = self._send_reminder_emails(sent, **(email_options or {}))
            self._write_log_links(
                {
                    "mail_id": mail_links,
                    "message_id": self._post_reminder_messages(sent),
                }
            )
            logs._sync_delivery_state(list(set(mail_links.values())))
            self._schedule_reminder_activities(sent)
        return logs

    def _claim_reminders(self, candidates, today, manual):
        """Insert the logs; a (rule, target) already logged, by this run or
        by a concurrent one, is silently left out (ON CONFLICT DO NOTHING).

        One array parameter per column: building one SQL placeholder per
        value of thousands of rows costs more than the insert itself.

        :return: the logs inserted, their state already in the cache
        """
        Log = self.env["installment.reminder.log"]
        if not candidates:
            return Log
        targets = {
            kind: [c["target_id"] if c["kind"] == kind else None for c in candidates]
            for kind in ("installment", "invoice")
        }
        columns = [
            ("rule_id", "int4", [c["rule_id"] for c in candidates]),
            ("plan_line_id", "int4", targets["installment"]),
            ("invoice_id", "int4", targets["invoice"]),
            ("move_id", "int4", [c["move_id"] for c in candidates]),
            ("plan_id", "int4", [c["plan_id"] for c in candidates]),
            ("partner_id", "int4", [c["partner_id"] for c in candidates]),
            ("company_id", "int4", [c["company_id"] for c in candidates]),
            ("due_date", "date", [c["due_date"] for c in candidates]),
            ("currency_id", "int4", [c["currency_id"] for c in candidates]),
            ("amount_residual", "numeric", [c["amount_residual"] for c in candidates]),
            ("state", "varchar", [c["state"] for c in candidates]),
        ]
        uid = self.env.uid
        now = SQL("(now() at time zone 'UTC')")
        rows = self.env.execute_query(
            SQL(
                """
            INSERT INTO installment_reminder_log
                   (%(names)s, date, manual, user_id,
                    create_uid, create_date, write_uid, write_date)
            SELECT %(names)s, %(today)s, %(manual)s, %(uid)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(arrays)s) AS candidate(%(names)s)
            ON CONFLICT DO NOTHING
            RETURNING id, state
                """,
                names=SQL(", ").join(SQL.identifier(name) for name, _t, _v in columns),
                arrays=SQL(", ").join(
                    SQL("%s::%s[]", values, SQL(type_)) for _n, type_, values in columns
                ),
                today=today,
                manual=manual,
                uid=uid,
                now=now,
            )
        )
        logs = Log.browse(row[0] for row in rows)
        self.env.cache.update(logs, Log._fields["state"], [row[1] for row in rows])
        return logs

    def _send_reminder_emails(self, logs, template=None, extra_items=()):
        """One email per customer, through the mail queue, rendered with the
        template of the most advanced rule among what is due (``template``
        when given). ``extra_items``: ``((partner id, (("installment.plan.line"
        or "account.move", id), ...)), ...)``, open items the email lists too
        although no log of theirs is sent now (see ``_installment_reminder_items``).

        :return: ``{log id: mail.mail id}``
        """
        per_partner = defaultdict(list)
        for log in logs:
            per_partner[log.partner_id.id].append(log)
        per_template = defaultdict(list)
        for partner_id, partner_logs in per_partner.items():
            lead = max(
                partner_logs,
                key=lambda log: (log.rule_id.offset_days, -log.rule_id.sequence),
            )
            per_template[template or lead.rule_id.mail_template_id].append(partner_id)
        payload = tuple(
            (partner_id, tuple(log.id for log in partner_logs))
            for partner_id, partner_logs in per_partner.items()
        )
        mail_per_partner = {}
        for mail_template, partner_ids in per_template.items():
            mails = (
                mail_template.sudo()
                .with_context(
                    installment_reminder_logs=payload,
                    installment_reminder_extra=tuple(extra_items),
                )
                .send_mail_batch(partner_ids, force_send=False)
            )
            mail_per_partner.update(zip(partner_ids, mails.ids, strict=True))
        return {
            log.id: mail_per_partner[partner_id]
            for partner_id, partner_logs in per_partner.items()
            for log in partner_logs
        }

    def _write_log_links(self, links):
        """Set ``{column: {log id: value}}`` on the logs, in one UPDATE."""
        log_ids = sorted(set().union(*links.values()))
        if not log_ids:
            return
        columns = list(links)
        self.env.execute_query(
            SQL(
                "UPDATE installment_reminder_log log SET %s "
                "FROM unnest(%s::int4[], %s) AS link(id, %s) WHERE log.id = link.id",
                SQL(", ").join(
                    SQL(
                        "%s = COALESCE(link.%s, log.%s)",
                        SQL.identifier(column),
                        SQL.identifier(column),
                        SQL.identifier(column),
                    )
                    for column in columns
                ),
                log_ids,
                SQL(", ").join(
                    SQL("%s::int4[]", [links[column].get(log_id) for log_id in log_ids])
                    for column in columns
                ),
                SQL(", ").join(SQL.identifier(column) for column in columns),
            )
        )
        self.env["installment.reminder.log"].invalidate_model(columns)

    def _post_reminder_messages(self, logs):
        """A note in the chatter of each plan (installments) and invoice
        (invoice reminders), one message per document, created in batch.

        :return: ``{log id: mail.message id}``
        """
        links = {}
        labels = logs._reminder_labels()
        formatter = ReminderFormatter(self.env)
        for model, field in (
            ("installment.plan", "plan_id"),
            ("account.move", "invoice_id"),
        ):
            per_record = defaultdict(list)
            for log in logs:
                record_id = log[field].id
                if record_id:
                    per_record[record_id].append(log.id)
            if not per_record:
                continue
            bodies = {
                record_id: self._reminder_message_body(
                    logs.browse(log_ids).with_prefetch(logs._prefetch_ids),
                    labels=labels,
                    formatter=formatter,
                )
                for record_id, log_ids in per_record.items()
            }
            messages = (
                self.env[model]
                .browse(list(bodies))
                ._message_log_batch(bodies=bodies, message_type="notification")
            )
            message_per_record = {message.res_id: message.id for message in messages}
            for record_id, log_ids in per_record.items():
                for log_id in log_ids:
                    links[log_id] = message_per_record[record_id]
        return links

    def _reminder_message_body(self, logs, labels, formatter):
        """The chatter note of one document; ``labels`` and ``formatter`` are
        the run's (``_reminder_labels()`` of its logs, a ``ReminderFormatter``)."""
        partner = logs[0].partner_id
        items = Markup("").join(
            Markup("<li>%s</li>")
            % self.env._(
                "%(what)s due %(date)s, %(amount)s remaining (rule: %(rule)s)",
                what=labels[log.id],
                date=formatter.date(log.due_date),
                amount=formatter.amount(log.amount_residual + 0.0, log.currency_id),
                rule=log.rule_id.name,
            )
            for log in logs
        )
        if logs[0].manual:
            intro = _(
                "Reminder sent by hand to %(partner)s <%(email)s>:",
                partner=partner.name,
                email=partner.email,
            )
        else:
            intro = _(
                "Reminder emailed to %(partner)s <%(email)s>:",
                partner=partner.name,
                email=partner.email,
            )
        return Markup("<p>%s</p><ul>%s</ul>") % (intro, items)

    def _schedule_reminder_activities(self, logs):
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        vals_list = []
        seen = set()
        logs = logs.filtered(lambda log: log.rule_id.create_activity)
        labels = logs._reminder_labels()
        formatter = ReminderFormatter(self.env)
        for log in logs:
            record = log.plan_id or log.invoice_id
            key = (record._name, record.id, log.rule_id.id)
            if key in seen:
                continue
            seen.add(key)
            user = log.move_id.invoice_user_id or self.env.user
            vals_list.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id(record._name),
                    "res_id": record.id,
                    "activity_type_id": todo.id if todo else False,
                    "summary": _("Follow up: %s", log.rule_id.name),
                    "note": _(
                        "%(what)s of %(partner)s was due on %(date)s; a reminder "
                        "was sent. Follow up with the customer.",
                        what=labels[log.id],
                        partner=log.partner_id.name,
                        date=formatter.date(log.due_date),
                    ),
                    "user_id": user.id,
                    "date_deadline": log.date,
                }
            )
        if vals_list:
            self.env["mail.activity"].sudo().create(vals_list)
