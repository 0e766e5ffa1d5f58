/* The dashboard's charts (Apache ECharts, vendored under vendor/echarts/) and the round picker.
   Data come from the page's <script type="application/json" id="dash-data"> (Django json_script): no inline script,
   no outside request. Tooltips are drawn on the canvas (renderMode "richText"), so no text becomes HTML. */
(function () {
  "use strict";

  // the round picker: choosing a round shows it (the button stays for keyboards and no-JS)
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });

  var holder = document.getElementById("dash-data");
  if (!holder || typeof window.echarts === "undefined") { return; }
  var data;
  try { data = JSON.parse(holder.textContent); } catch (e) { return; }

  var COLORS = { blue: "#1f4e8c", red: "#b3261e", amber: "#a15c00", green: "#1e7a3c", grey: "#8a96a5" };
  var FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';
  var BAR = 28;  // the widest bar, whatever the number of units
  var base = {
    textStyle: { fontFamily: FONT },
    tooltip: { renderMode: "richText", confine: true },
    animation: false
  };

  function empty(el, text) {
    el.classList.add("chart-empty");
    el.textContent = text;
  }

  function draw(el, option) {
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(Object.assign({}, base, option));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var charts = {
    groups: function (el) {
      var items = (data.groups || []).slice().reverse();  // the most frequent at the top
      if (!items.length) { return empty(el, "本轮没有发现问题"); }
      if (items.length > 10) { el.classList.add("chart-tall"); }
      draw(el, {
        tooltip: Object.assign({}, base.tooltip, { trigger: "axis" }),
        grid: { left: 8, right: 40, top: 8, bottom: 24, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: items.map(function (g) { return g.name; }),
                 axisLabel: { width: 200, overflow: "truncate" } },
        series: [{ name: "问题数", type: "bar", barMaxWidth: BAR, data: items.map(function (g) { return g.value; }),
                   itemStyle: { color: COLORS.blue }, label: { show: true, position: "right" } }]
      });
    },
    rates: function (el) {
      var r = data.rates;
      if (!r) { return empty(el, "没有数据"); }
      draw(el, {
        tooltip: Object.assign({}, base.tooltip, { trigger: "axis" }),
        legend: { top: 0 },
        grid: { left: 90, right: 24, top: 36, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: r.labels },
        series: [
          { name: "合格", type: "bar", barMaxWidth: BAR, stack: "n", data: r.passed, itemStyle: { color: COLORS.green } },
          { name: "不合格", type: "bar", barMaxWidth: BAR, stack: "n", data: r.failed, itemStyle: { color: COLORS.red } },
          { name: "未能检查", type: "bar", barMaxWidth: BAR, stack: "n", data: r.unknown, itemStyle: { color: COLORS.amber } }
        ]
      });
    },
    worst: function (el) {
      var w = data.worst;
      if (!w || !w.labels.length) { return empty(el, "本轮没有发现问题"); }
      var labels = w.labels.slice().reverse();
      draw(el, {
        tooltip: Object.assign({}, base.tooltip, { trigger: "axis" }),
        legend: { top: 0 },
        grid: { left: 8, right: 24, top: 36, bottom: 24, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: labels, axisLabel: { width: 160, overflow: "truncate" } },
        series: [
          { name: "问题", type: "bar", barMaxWidth: BAR, data: w.findings.slice().reverse(), itemStyle: { color: COLORS.blue } },
          { name: "单项否决", type: "bar", barMaxWidth: BAR, data: w.veto.slice().reverse(), itemStyle: { color: COLORS.red } },
          { name: "不合格网站", type: "bar", barMaxWidth: BAR, data: w.failed.slice().reverse(), itemStyle: { color: COLORS.amber } }
        ]
      });
    },
    change: function (el) {
      var c = data.change;
      if (!c || !c.previous) { return empty(el, "没有可对比的上一轮"); }
      if (!(c.new + c.still + c.fixed)) { return empty(el, "两轮均未发现问题"); }
      draw(el, {
        tooltip: Object.assign({}, base.tooltip, { trigger: "axis" }),
        grid: { left: 8, right: 24, top: 16, bottom: 24, containLabel: true },
        xAxis: { type: "category", data: ["新增", "仍存在", "已整改"] },
        yAxis: { type: "value", minInterval: 1 },
        series: [{ type: "bar", barMaxWidth: 64, label: { show: true, position: "top" },
                   data: [{ value: c.new, itemStyle: { color: COLORS.blue } },
                          { value: c.still, itemStyle: { color: COLORS.red } },
                          { value: c.fixed, itemStyle: { color: COLORS.green } }] }]
      });
    }
  };

  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var fn = charts[el.getAttribute("data-chart")];
    if (fn) { fn(el); }
  });
}());
