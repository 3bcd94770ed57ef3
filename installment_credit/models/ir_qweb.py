from lxml import etree

from odoo import models


class IrQweb(models.AbstractModel):
    _inherit = "ir.qweb"

    def _compile(self, template):
        """Compile a reminder email's body once per run, not once per customer.

        ``mail.template`` renders its body from an element it parses again for
        each record, and QWeb only caches what it compiles from views: every
        email of the reminder run compiled the same body again, which was the
        largest cost of the run. While the run renders (its context carries
        ``installment_reminder_logs``), what is compiled from an element is
        kept on the cursor, keyed by the element's source and the context keys
        QWeb caches views on (language, restricted rendering, ...). Compiled
        templates do not depend on the records rendered: views' are shared by
        every request.
        """
        if not isinstance(template, etree._Element) or not self.env.context.get(
            "installment_reminder_logs"
        ):
            return super()._compile(template)
        key = (
            etree.tostring(template),
            tuple(self.env.context.get(k) for k in self._get_template_cache_keys()),
        )
        compiled = self.env.cr.cache.setdefault("installment_reminder_qweb", {})
        if key not in compiled:
            compiled[key] = super()._compile(template)
        return compiled[key]
