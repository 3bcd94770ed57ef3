/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Tour 2: configure an installment scheme on a payment term (first installment
// on a day of the month, monthly recurrence) and watch the preview change.
registry.category("web_tour.tours").add("installment_credit_payment_term", {
    steps: () => [
        {
            content: "Name the term",
            trigger: "div[name=name] input",
            run: "edit Installments on the 25th",
        },
        {
            content: "Turn the installment scheme on",
            trigger: "div[name=installment_enabled] input",
            run: "click",
        },
        {
            content: "Three installments",
            trigger: "div[name=installment_count] input",
            run: "edit 3",
        },
        {
            content: "First installment on a day of the month",
            trigger: "div[name=installment_first_type] input[data-value=day_of_month]",
            run: "click",
        },
        {
            trigger: "div[name=installment_first_day_of_month] input",
            run: "edit 15",
        },
        {
            content: "Example date",
            trigger: "div[name=example_date] input",
            run: "edit 03/20/2026",
        },
        {
            trigger: "div[name=installment_count] input",
            run: "click",
        },
        {
            content: "Preview: the 15th of the next month, then monthly",
            trigger: "div[name=example_preview]:contains(04/15/2026):contains(05/15/2026):contains(06/15/2026)",
        },
        {
            content: "Move the day to the 25th",
            trigger: "div[name=installment_first_day_of_month] input",
            run: "edit 25",
        },
        {
            trigger: "div[name=installment_count] input",
            run: "click",
        },
        {
            content: "The preview follows: the 25th is still ahead in March (Saturday April 25 moves to the next working day)",
            trigger: "div[name=example_preview]:contains(03/25/2026):contains(05/25/2026)",
        },
        ...stepUtils.saveForm(),
    ],
});
