/** @odoo-module */

import { registry } from "@web/core/registry";
import { formatFloat } from "@web/views/fields/formatters";
import { FloatField, floatField } from "@web/views/fields/float/float_field";

/**
 * A quantity of a credit type, shown with that type's decimals (from its
 * rounding: 1 -> "1,000", 0.01 -> "5,962.50") instead of the field's fixed
 * four. The decimals come from an integer field of the same record
 * (``credit_decimals`` unless the ``decimals_field`` option names another),
 * which the view must load (e.g. ``column_invisible="1"``).
 */
export class CreditQuantityField extends FloatField {
    static props = {
        ...FloatField.props,
        decimalsField: { type: String, optional: true },
    };

    get decimals() {
        const value = this.props.record.data[this.props.decimalsField || "credit_decimals"];
        return Number.isInteger(value) ? value : undefined;
    }

    get formattedValue() {
        const decimals = this.decimals;
        if (decimals === undefined || !this.props.formatNumber) {
            return super.formattedValue;
        }
        return formatFloat(this.value, { digits: [16, decimals] });
    }
}

export const creditQuantityField = {
    ...floatField,
    component: CreditQuantityField,
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...floatField.extractProps(fieldInfo, dynamicInfo),
        decimalsField: fieldInfo.options.decimals_field,
    }),
};

registry.category("fields").add("credit_quantity", creditQuantityField);

/**
 * The same quantities in pivot cells (``widget="credit_quantity"`` on a
 * measure): a cell has no record to read its type's decimals from, so the
 * value is shown without trailing zeros (1,000 SMS, 5,962.5 minutes), which a
 * multiple of the type's rounding always allows. An empty value (a total over
 * several credit types, which the server leaves empty) stays empty.
 */
export function formatCreditQuantity(value, options = {}) {
    if (value === false || value === null || value === undefined) {
        return "";
    }
    return formatFloat(value, { ...options, digits: [16, 4], trailingZeros: false });
}

registry.category("formatters").add("credit_quantity", formatCreditQuantity);
