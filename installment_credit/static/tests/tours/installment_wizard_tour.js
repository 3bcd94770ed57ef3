/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Tour 1: from a posted invoice, split it into 3 monthly installments with the
// wizard, check the preview, confirm, then edit the 2nd installment and see the
// 3rd rebalanced.
registry.category("web_tour.tours").add("installment_credit_invoice_wizard", {
    steps: () => [
        {
            content: "Open the Installments wizard",
            trigger: "button[name=action_open_installment_wizard]",
            run: "click",
        },
        {
            content: "Choose 3 installments",
            trigger: ".modal div[name=count] input",
            run: "edit 3",
        },
        {
            content: "Set the first due date",
            trigger: ".modal div[name=first_due_date] input",
            run: "edit 02/10/2026",
        },
        {
            content: "Leave the date field so the preview recomputes",
            trigger: ".modal div[name=interval_number] input",
            run: "click",
        },
        {
            content: "The preview shows the third installment with the remainder",
            trigger: ".modal .o_installment_preview tr:contains(04/10/2026):contains(333.34)",
        },
        {
            content: "Confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The plan is open with three installments",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:nth-child(3) td[name=amount]:contains(333.34)",
        },
        {
            content: "Edit the 2nd installment's amount",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:nth-child(2) td[name=amount]",
            run: "click",
        },
        {
            trigger: ".o_form_view div[name=line_ids] .o_selected_row div[name=amount] input",
            run: "edit 400",
        },
        ...stepUtils.saveForm(),
        {
            content: "The 3rd installment absorbed the difference",
            trigger: ".o_form_view div[name=line_ids] .o_data_row:nth-child(3) td[name=amount]:contains(266.67)",
        },
        {
            content: "The edit is logged in the chatter",
            trigger: ".o-mail-Message:contains(rebalanced)",
        },
    ],
});
