/*
 * The engagement dashboard's charts (ECharts, vendored under static/vendor/).
 *
 * The figures come from the page itself: the server writes them with Django's json_script into
 * <script type="application/json" id="dashboard-chart-data">, and each chart is an element with
 * data-chart="trend" (and data-metric) or data-chart="sources". Nothing here computes a metric:
 * money and ratios arrive as exact decimal strings and are only formatted for the axis and the
 * tooltip. After an htmx swap (a new range) the charts of the new content are drawn and those
 * of the removed content are disposed.
 */
(function () {
  "use strict";

  var DATA_ID = "dashboard-chart-data";
  var CURRENT_COLOR = "#c81623";
  var PREVIOUS_COLOR = "#8f959e";
  var charts = [];

  function language() {
    var lang = document.documentElement.getAttribute("lang") || undefined;
    try {
      new Intl.NumberFormat(lang);
      return lang;
    } catch (error) {
      return undefined;
    }
  }

  var LANG = language();
  var formats = {
    count: new Intl.NumberFormat(LANG, { maximumFractionDigits: 0 }),
    two: new Intl.NumberFormat(LANG, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
    compact: new Intl.NumberFormat(LANG, { notation: "compact", maximumFractionDigits: 1 }),
  };

  function toNumber(value) {
    if (value === null || value === undefined || value === "") {
      return null;
    }
    var number = Number(value);
    return isFinite(number) ? number : null;
  }

  // One value for reading: money in CNY with 2 places, rates as percentages with 2 decimals.
  function formatValue(unit, value, forAxis) {
    var number = toNumber(value);
    if (number === null) {
      return "—";
    }
    if (unit === "money") {
      return "¥" + (forAxis && Math.abs(number) >= 10000 ? formats.compact : formats.two).format(number);
    }
    if (unit === "ratio") {
      return formats.two.format(number * 100) + "%";
    }
    if (unit === "multiple") {
      return formats.two.format(number);
    }
    return (forAxis && Math.abs(number) >= 10000 ? formats.compact : formats.count).format(number);
  }

  function escape(text) {
    return window.echarts.format.encodeHTML(String(text));
  }

  function readData() {
    var element = document.getElementById(DATA_ID);
    if (!element) {
      return null;
    }
    return JSON.parse(element.textContent);
  }

  function trendOption(trends, series) {
    var current = series.current.map(toNumber);
    var previous = series.previous.map(toNumber);
    var labels = trends.dates.map(function (date) {
      return date.slice(5);
    });
    return {
      animationDuration: 300,
      color: [CURRENT_COLOR, PREVIOUS_COLOR],
      grid: { left: 8, right: 12, top: 16, bottom: 56, containLabel: true },
      legend: { bottom: 0, data: [trends.current_label, trends.previous_label], textStyle: { fontSize: 11 } },
      tooltip: {
        trigger: "axis",
        formatter: function (points) {
          if (!points.length) {
            return "";
          }
          var index = points[0].dataIndex;
          return [
            escape(trends.dates[index]) + ": <b>" + escape(formatValue(series.unit, series.current[index])) + "</b>",
            escape(trends.previous_dates[index]) + ": " + escape(formatValue(series.unit, series.previous[index])),
          ].join("<br>");
        },
      },
      xAxis: { type: "category", data: labels, boundaryGap: false },
      yAxis: {
        type: "value",
        scale: series.unit === "ratio" || series.unit === "multiple",
        axisLabel: {
          formatter: function (value) {
            return formatValue(series.unit, value, true);
          },
        },
      },
      series: [
        { name: trends.current_label, type: "line", data: current, showSymbol: current.length < 40, connectNulls: false },
        {
          name: trends.previous_label,
          type: "line",
          data: previous,
          showSymbol: false,
          connectNulls: false,
          lineStyle: { type: "dashed", width: 1.5 },
        },
      ],
    };
  }

  function sourcesOption(sources) {
    return {
      animationDuration: 300,
      tooltip: {
        trigger: "item",
        formatter: function (point) {
          return escape(point.name) + ": " + escape(formatValue("count", point.value)) + " (" + escape(formats.two.format(point.percent)) + "%)";
        },
      },
      legend: { type: "scroll", bottom: 0 },
      series: [
        {
          name: sources.label,
          type: "pie",
          radius: ["40%", "68%"],
          center: ["50%", "45%"],
          avoidLabelOverlap: true,
          label: { show: false },
          data: sources.rows,
        },
      ],
    };
  }

  function disposeDetached() {
    charts = charts.filter(function (chart) {
      if (chart.isDisposed()) {
        return false;
      }
      if (!document.body.contains(chart.getDom())) {
        chart.dispose();
        return false;
      }
      return true;
    });
  }

  function draw() {
    disposeDetached();
    if (!window.echarts) {
      return;
    }
    var elements = document.querySelectorAll("[data-chart]");
    if (!elements.length) {
      return;
    }
    var data = readData();
    if (!data) {
      return;
    }
    var trendsByMetric = {};
    data.trends.series.forEach(function (series) {
      trendsByMetric[series.metric] = series;
    });
    elements.forEach(function (element) {
      var existing = window.echarts.getInstanceByDom(element);
      if (existing) {
        return;
      }
      var option = null;
      if (element.dataset.chart === "trend" && trendsByMetric[element.dataset.metric]) {
        option = trendOption(data.trends, trendsByMetric[element.dataset.metric]);
      } else if (element.dataset.chart === "sources") {
        option = sourcesOption(data.sources);
      }
      if (option) {
        var chart = window.echarts.init(element, null, { renderer: "canvas" });
        chart.setOption(option);
        charts.push(chart);
      }
    });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(function () {
      charts.forEach(function (chart) {
        if (!chart.isDisposed()) {
          chart.resize();
        }
      });
    }, 150);
  });

  // Back and forward: htmx puts back a copy of the page's HTML, charts' canvases included but
  // no live chart behind them; draw them again from the restored page's data.
  function redrawRestored() {
    disposeDetached();
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var existing = window.echarts && window.echarts.getInstanceByDom(element);
      if (existing) {
        existing.dispose();
      }
      element.removeAttribute("_echarts_instance_");
      element.replaceChildren();
    });
    draw();
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("htmx:historyRestore", redrawRestored);
})();
