// Evaluates every shared expression vector with workflows/static/js/expressions.js.
//
// tests/test_expressions.py compiles tests/expression_vectors.json with the
// Python parser, writes the trees to a JSON file and runs
//   EXPRESSION_VECTORS=<that file> node --test tests/js/expressions.test.js
// Without that file (or with zero vectors) this test fails, so it can never
// pass silently having checked nothing.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const WenmingExpressions = require(path.join(__dirname, "..", "..", "workflows", "static", "js", "expressions.js"));

function loadVectors() {
  const file = process.env.EXPRESSION_VECTORS;
  if (!file) {
    throw new Error("EXPRESSION_VECTORS is not set; run this through tests/test_expressions.py");
  }
  if (!fs.existsSync(file)) throw new Error("EXPRESSION_VECTORS file is missing: " + file);
  const data = JSON.parse(fs.readFileSync(file, "utf8"));
  const vectors = Array.isArray(data) ? data : data && data.vectors;
  if (!Array.isArray(vectors) || vectors.length === 0) {
    throw new Error("EXPRESSION_VECTORS has no vectors: " + file);
  }
  return vectors;
}

function assertClose(actual, expected, where) {
  if (typeof expected === "number") {
    assert.strictEqual(typeof actual, "number", where + ": expected a number, got " + JSON.stringify(actual));
    assert.ok(Math.abs(actual - expected) <= 1e-9,
      where + ": expected " + expected + ", got " + actual);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), where + ": expected a list, got " + JSON.stringify(actual));
    assert.strictEqual(actual.length, expected.length, where + ": list length");
    for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], where + "[" + i + "]");
    return;
  }
  assert.deepStrictEqual(actual, expected, where);
}

let vectors = null;
let problem = null;
try {
  vectors = loadVectors();
} catch (error) {
  problem = error;
}

test("expression vectors are provided", () => {
  if (problem) throw problem;
  assert.ok(vectors.length > 0);
});

if (vectors) {
  vectors.forEach((vector, index) => {
    const label = "vector " + index + ": " + (vector.expr || JSON.stringify(vector.tree));
    test(label, () => {
      const actual = WenmingExpressions.evaluate(vector.tree, vector.values, {
        row: vector.row || null,
        today: vector.today,
      });
      assertClose(actual, vector.expected, label);
    });
  });

  test("isTruthy", () => {
    const t = WenmingExpressions.isTruthy;
    for (const x of [null, undefined, false, 0, NaN, "", []]) assert.strictEqual(t(x), false, String(x));
    for (const x of [true, 1, -0.5, "a", [null], "2017-10-01", {}]) assert.strictEqual(t(x), true, String(x));
  });

  test("values never reach the prototype chain", () => {
    const tree = ["cmp", "==", ["name", "constructor"], ["lit", null]];
    assert.strictEqual(WenmingExpressions.evaluate(tree, {}, {}), true);
    assert.strictEqual(WenmingExpressions.evaluate(["name", "toString"], {}, {}), null);
    assert.strictEqual(WenmingExpressions.evaluate(["row", "hasOwnProperty"], {}, { row: {} }), null);
  });

  test("unknown nodes and functions are refused", () => {
    assert.throws(() => WenmingExpressions.evaluate(["eval", "1"], {}, {}));
    assert.throws(() => WenmingExpressions.evaluate(["call", "constructor", []], {}, {}));
  });
}
