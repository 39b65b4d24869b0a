// Evaluates form definition expressions in the browser.
//
// The server (forms/expressions/) parses and type checks every expression
// once and sends the tree as JSON; this file only walks that tree, with the
// same semantics as the Python evaluator: null rules, division by zero gives
// null, and an operation on values of the wrong kind gives null (or false).
// Dates are ISO strings "YYYY-MM-DD" (datetimes "YYYY-MM-DDTHH:MM[:SS]").
// Nothing is ever eval'ed.
//
//   WenmingExpressions.evaluate(tree, values, {row: {...}, today: "2017-09-29"})
//   WenmingExpressions.test(tree, values, options)   // isTruthy(evaluate(...))
//   WenmingExpressions.isTruthy(value)
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.WenmingExpressions = api;
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var hasOwn = Object.prototype.hasOwnProperty;
  var DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
  var DATETIME_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?$/;
  var ID_RE = /^\d{17}[\dXx]$/;
  var patterns = {};

  function get(obj, key) {
    if (obj === null || typeof obj !== "object" || !hasOwn.call(obj, key)) return null;
    var value = obj[key];
    return value === undefined ? null : value;
  }

  function isNum(x) { return typeof x === "number"; }
  function isStr(x) { return typeof x === "string"; }

  function isTruthy(x) {
    if (x === null || x === undefined) return false;
    if (typeof x === "boolean") return x;
    if (typeof x === "number") return x === x && x !== 0;
    if (typeof x === "string" || Array.isArray(x)) return x.length > 0;
    return true;
  }

  // --- dates -------------------------------------------------------------
  function isLeap(y) { return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0); }
  function validDate(y, m, d) {
    if (y < 1 || m < 1 || m > 12 || d < 1) return false;
    var days = [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
    return d <= days;
  }
  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = "0" + s;
    return s;
  }
  // [y, m, d] of a date or datetime string, or null.
  function dateParts(x) {
    if (!isStr(x)) return null;
    var m = DATE_RE.exec(x.slice(0, 10));
    if (!m || (x.length > 10 && x.charAt(10) !== "T" && x.charAt(10) !== " ")) return null;
    var y = +m[1], mo = +m[2], d = +m[3];
    return validDate(y, mo, d) ? [y, mo, d] : null;
  }
  // Days since 1970-01-01 (proleptic Gregorian), without Date objects.
  function dayNumber(p) {
    var y = p[0], m = p[1], d = p[2];
    y -= m <= 2 ? 1 : 0;
    var era = Math.floor(y / 400);
    var yoe = y - era * 400;
    var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    var doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
  }
  // date(text): a date or datetime string → its date, anything else → null.
  function toDate(x) {
    return dateParts(x) ? x.slice(0, 10) : null;
  }
  function localDate(d) {
    return pad(d.getFullYear(), 4) + "-" + pad(d.getMonth() + 1, 2) + "-" + pad(d.getDate(), 2);
  }
  function todayOf(options) {
    var today = options && options.today;
    if (Object.prototype.toString.call(today) === "[object Date]") return localDate(today);
    if (today) return String(today).slice(0, 10);
    return localDate(new Date());
  }
  // A date or datetime string in one comparable form, or null.
  function dateKey(x) {
    if (DATE_RE.test(x)) return x + "T00:00:00";
    var m = DATETIME_RE.exec(x);
    return m ? m[1] + "T" + m[2] + (m[3] || ":00") : null;
  }

  // --- comparisons -------------------------------------------------------
  // The two values made comparable, or null when they are not.
  function orderPair(a, b) {
    if (isNum(a) && isNum(b)) return [a, b];
    if (isStr(a) && isStr(b)) {
      if (a !== b && (a.length > 10 || b.length > 10)) {
        var ka = dateKey(a), kb = dateKey(b);
        if (ka !== null && kb !== null) return [ka, kb];
      }
      return [a, b];
    }
    return null;
  }
  function lt(a, b) { var p = orderPair(a, b); return p !== null && p[0] < p[1]; }
  function le(a, b) { var p = orderPair(a, b); return p !== null && p[0] <= p[1]; }
  function eq(a, b) {
    if (a === null || a === undefined || b === null || b === undefined) {
      return (a === null || a === undefined) && (b === null || b === undefined);
    }
    if (Array.isArray(a) || Array.isArray(b)) {
      if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
      for (var i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
      return true;
    }
    if (isStr(a) && isStr(b) && a !== b) {
      var p = orderPair(a, b);
      return p[0] === p[1];
    }
    return a === b;
  }
  function contains(a, b) {
    if (a === null || a === undefined || b === null || b === undefined) return false;
    if (isStr(b)) return isStr(a) && b.indexOf(a) !== -1;
    if (Array.isArray(b)) {
      for (var i = 0; i < b.length; i++) if (eq(a, b[i])) return true;
    }
    return false;
  }
  function items(x) {
    if (x === null || x === undefined) return [];
    return Array.isArray(x) ? x : [x];
  }

  // --- numbers -----------------------------------------------------------
  function shift(x, n) {
    var parts = String(x).split("e");
    return Number(parts[0] + "e" + (parts.length > 1 ? Number(parts[1]) + n : n));
  }
  // Half away from zero, on the decimal representation (as Python's side).
  function round(x, n) {
    if (!isNum(x)) return null;
    n = Math.max(-15, Math.min(15, Math.trunc(n)));
    if (!isFinite(x) || (n >= 0 && Math.floor(x) === x)) return x;
    var sign = x < 0 ? -1 : 1;
    var r = Math.round(shift(Math.abs(x), n));
    var result = sign * shift(r, -n);
    return result === 0 ? 0 : result;
  }

  function regex(pattern) {
    if (!hasOwn.call(patterns, pattern)) patterns[pattern] = new RegExp("^(?:" + pattern + ")$");
    return patterns[pattern];
  }

  function birthDate(x) {
    if (!isStr(x) || !ID_RE.test(x)) return null;
    var y = +x.slice(6, 10), m = +x.slice(10, 12), d = +x.slice(12, 14);
    return validDate(y, m, d) ? x.slice(6, 10) + "-" + x.slice(10, 12) + "-" + x.slice(12, 14) : null;
  }

  // --- functions ---------------------------------------------------------
  var functions = {
    today: function (args, ctx) { return todayOf(ctx.options); },
    len: function (args, ctx) {
      var x = ev(args[0], ctx);
      if (x === null) return 0;
      if (isStr(x)) return Array.from(x).length;
      if (Array.isArray(x)) return x.length;
      return null;
    },
    sum: function (args, ctx) {
      var list = items(ev(args[0], ctx)), total = 0;
      for (var i = 0; i < list.length; i++) if (isNum(list[i])) total += list[i];
      return total;
    },
    count: function (args, ctx) {
      var list = items(ev(args[0], ctx)), n = 0;
      for (var i = 0; i < list.length; i++) if (list[i] !== null && list[i] !== undefined) n++;
      return n;
    },
    min: function (args, ctx) { return pick(args, ctx, function (x, best) { return lt(x, best); }); },
    max: function (args, ctx) { return pick(args, ctx, function (x, best) { return lt(best, x); }); },
    round: function (args, ctx) {
      var x = ev(args[0], ctx);
      if (args.length === 1) return round(x, 0);
      var n = ev(args[1], ctx);
      if (!isNum(n) || !isFinite(n)) return null;
      return round(x, n);
    },
    date_diff: function (args, ctx) {
      var a = dateParts(ev(args[0], ctx)), b = dateParts(ev(args[1], ctx));
      if (a === null || b === null) return null;
      return dayNumber(a) - dayNumber(b);
    },
    years_since: function (args, ctx) {
      var d = dateParts(ev(args[0], ctx)), now = dateParts(todayOf(ctx.options));
      if (d === null || now === null) return null;
      var before = now[1] < d[1] || (now[1] === d[1] && now[2] < d[2]);
      return now[0] - d[0] - (before ? 1 : 0);
    },
    birth_date: function (args, ctx) { return birthDate(ev(args[0], ctx)); },
    matches: function (args, ctx) {
      var x = ev(args[0], ctx);
      return isStr(x) && regex(args[1][1]).test(x);
    },
    coalesce: function (args, ctx) {
      for (var i = 0; i < args.length; i++) {
        var x = ev(args[i], ctx);
        if (x !== null) return x;
      }
      return null;
    },
    if_else: function (args, ctx) {
      return isTruthy(ev(args[0], ctx)) ? ev(args[1], ctx) : ev(args[2], ctx);
    },
    date: function (args, ctx) { return toDate(ev(args[0], ctx)); }
  };

  function pick(args, ctx, better) {
    var list;
    if (args.length === 1) list = items(ev(args[0], ctx));
    else {
      list = [];
      for (var i = 0; i < args.length; i++) list.push(ev(args[i], ctx));
    }
    var best = null;
    for (var j = 0; j < list.length; j++) {
      var x = list[j];
      if (x === null || x === undefined) continue;
      if (best === null) { if (orderPair(x, x) !== null) best = x; }
      else if (better(x, best)) best = x;
    }
    return best;
  }

  function arith(op, a, b) {
    if (a === null || b === null) return null;
    if (op === "+") {
      if ((isNum(a) && isNum(b)) || (isStr(a) && isStr(b))) return a + b;
      return null;
    }
    if (!isNum(a) || !isNum(b)) return null;
    if (op === "-") return a - b;
    if (op === "*") return a * b;
    if (op === "/") return b === 0 ? null : a / b;
    throw new Error("unknown operator " + op);
  }

  function compare(op, a, b) {
    switch (op) {
      case "==": return eq(a, b);
      case "!=": return !eq(a, b);
      case "<": return lt(a, b);
      case "<=": return le(a, b);
      case ">": return lt(b, a);
      case ">=": return le(b, a);
    }
    throw new Error("unknown comparison " + op);
  }

  function ev(node, ctx) {
    switch (node[0]) {
      case "lit": return node[1];
      case "name": return get(ctx.values, node[1]);
      case "row": return get(ctx.row, node[1]);
      case "column": {
        var rows = get(ctx.values, node[1]);
        if (!Array.isArray(rows)) return [];
        var out = [];
        for (var i = 0; i < rows.length; i++) out.push(get(rows[i], node[2]));
        return out;
      }
      case "list": {
        var list = [];
        for (var k = 0; k < node[1].length; k++) list.push(ev(node[1][k], ctx));
        return list;
      }
      case "neg": {
        var x = ev(node[1], ctx);
        return isNum(x) ? (x === 0 ? 0 : -x) : null;
      }
      case "arith": return arith(node[1], ev(node[2], ctx), ev(node[3], ctx));
      case "cmp": return compare(node[1], ev(node[2], ctx), ev(node[3], ctx));
      case "in": return contains(ev(node[1], ctx), ev(node[2], ctx));
      case "not_in": return !contains(ev(node[1], ctx), ev(node[2], ctx));
      case "and": return isTruthy(ev(node[1], ctx)) && isTruthy(ev(node[2], ctx));
      case "or": return isTruthy(ev(node[1], ctx)) || isTruthy(ev(node[2], ctx));
      case "not": return !isTruthy(ev(node[1], ctx));
      case "call": {
        if (!hasOwn.call(functions, node[1])) throw new Error("unknown function " + node[1]);
        return functions[node[1]](node[2], ctx);
      }
    }
    throw new Error("unknown expression node " + JSON.stringify(node[0]));
  }

  function evaluate(tree, values, options) {
    var opts = options || {};
    var ctx = { values: values || {}, row: opts.row || null, options: opts };
    var result = ev(tree, ctx);
    return result === undefined ? null : result;
  }

  return {
    evaluate: evaluate,
    test: function (tree, values, options) { return isTruthy(evaluate(tree, values, options)); },
    isTruthy: isTruthy
  };
});
