// A till's checkout as a partner writes it with openapi-fetch and the types openapi-typescript
// generates from openapi/openapi.json (schema.ts, made by tests/clients/conftest.py). `tsc`
// checks the types before it runs: a response the document leaves untyped fails to compile.
import assert from "node:assert/strict";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type SaleResponses = paths["/v1/sales"]["post"]["responses"];
// The replay (200) is documented as the same sale as the first answer (201).
type ReplayedSale = SaleResponses[200]["content"]["application/json"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const [store, card, member, receipt] = ["STORE", "CARD", "MEMBER", "RECEIPT"].map(env);
const client = createClient<paths>({
  baseUrl: env("LOYALTY_URL"),
  headers: { Authorization: `Bearer ${env("LOYALTY_KEY")}` },
});

// With --default-non-nullable false (conftest.py, README) a property with a default stays
// optional in a request, as the document says: a card class needs only these.
const minimalClass: Schemas["CardClassCreate"] = {
  code: "GOLD",
  name: "Gold",
  usage: "member",
  serial_length: 6,
  serial_start: 1,
  serial_end: 999999,
};
assert.ok(minimalClass);

// Price the basket: the class's default rate 0.90 makes 100.00 cost 90.00.
const quote = await client.POST("/v1/checkout/quote", {
  body: {
    store_code: store,
    card_number: card,
    lines: [{ line_no: 1, sku: "6901", qty: "1", original_price: "100.00" }],
  },
});
assert.equal(quote.response.status, 200);
assert.ok(quote.data, "the quote has a body");
assert.equal(quote.data.lines[0].final_amount, "90.00");

// Sell it: 0.1 point per yuan earns 9 A points.
const sale: Schemas["SaleCreate"] = {
  store_code: store,
  receipt_no: receipt,
  card_number: card,
  occurred_at: new Date().toISOString(),
  lines: [{ line_no: 1, sku: "6901", qty: "1", final_amount: "90.00" }],
  payments: [{ method: "cash", amount: "90.00" }],
};
const first = await client.POST("/v1/sales", { body: sale });
assert.equal(first.response.status, 201);
assert.ok(first.data, "the sale has a body");
const recorded: Schemas["SaleRead"] = first.data;
assert.equal(recorded.points_earned.A, 9);
assert.equal(recorded.balance, 9);

// The till sends it again (a lost answer): the first result, flagged replayed.
const again = await client.POST("/v1/sales", { body: sale });
assert.equal(again.response.status, 200);
assert.equal(again.response.headers.get("Idempotent-Replayed"), "true");
assert.ok(again.data, "the replay has a body");
const replayed: ReplayedSale = again.data;
assert.deepEqual(replayed, recorded);

const memberPath = { params: { path: { member_id: member } } };
const points = await client.GET("/v1/members/{member_id}/points", memberPath);
assert.equal(points.response.status, 200);
assert.ok(points.data);
assert.deepEqual([points.data.balance, points.data.by_category.A], [9, 9]);

const entries = await client.GET("/v1/members/{member_id}/points/entries", {
  params: { path: { member_id: member }, query: { limit: 10 } },
});
assert.equal(entries.response.status, 200);
assert.ok(entries.data);
assert.deepEqual(
  entries.data.items.map((entry) => [entry.category, entry.points]),
  [["A", 9]],
);
assert.equal(entries.data.next_cursor, null);

const redemption = await client.POST("/v1/points/redemptions", {
  body: { member_id: member, points: 5, purpose: "gift", reference: "R-1" },
});
assert.equal(redemption.response.status, 201);
assert.ok(redemption.data);
assert.deepEqual([redemption.data.points, redemption.data.purpose], [5, "gift"]);
// Ids are opaque strings: the one given names the redemption in a path as it is.
const redemptionId: string = redemption.data.id;
assert.match(redemptionId, /^[0-9]+$/);
const fetched = await client.GET("/v1/points/redemptions/{redemption_id}", {
  params: { path: { redemption_id: redemptionId } },
});
assert.equal(fetched.data?.id, redemptionId);
const after = await client.GET("/v1/members/{member_id}/points", memberPath);
assert.equal(after.data?.balance, 4);

// Another sale under the same receipt: a 409 the till can match on its code.
const other: Schemas["SaleCreate"] = {
  ...sale,
  lines: [{ line_no: 1, sku: "6902", qty: "1", final_amount: "90.00" }],
};
const conflict = await client.POST("/v1/sales", { body: other });
assert.equal(conflict.response.status, 409);
assert.ok(conflict.error, "the conflict has a problem body");
const problem: Schemas["Problem"] = conflict.error;
const expected: Schemas["Problem"]["code"] = "receipt_conflict";
assert.equal(problem.code, expected);
assert.equal(problem.status, 409);

console.log("checkout flow ok");
