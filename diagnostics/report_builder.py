"""The diagnosis report's first draft, written from the intake, competitors, personas and the
store baseline as plain-text sections (`{"key", "title", "body"}`) that staff then edit.

Numbers are formatted for reading (counts with separators, CNY to the cent, percentages with two
decimals, "—" where a value is missing) and each trend is said in words, 30 days against the 30
before and 90 against the 90 before. The figures come from `diagnosis_baseline`, never from a
formula of this module.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from diagnostics import selectors
from diagnostics.models import Competitor, DiagnosisIntake, Persona
from engagements.models import Engagement
from execution.metrics.registry import METRICS, MONEY, RATIO

# A change smaller than this (either way) reads as "about the same".
STEADY = Decimal("0.02")
REPORT_METRICS = ("visitors", "paying_buyers", "conversion_rate", "aov", "gmv", "uv_value")
AD_METRICS = ("ad_spend", "clicks", "cpc", "roi")
DASH = "—"


def format_count(value) -> str:
    return DASH if value is None else f"{int(value):,}"


def format_money(value) -> str:
    if value is None:
        return DASH
    return "¥" + f"{Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def format_percent(value) -> str:
    if value is None:
        return DASH
    percent = (Decimal(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{percent}%"


def format_metric(name: str, value) -> str:
    metric = METRICS[name]
    if name == "roi":
        return DASH if value is None else f"{Decimal(value).quantize(Decimal('0.01'))}"
    if metric.unit == RATIO:
        return format_percent(value)
    if metric.unit == MONEY:
        return format_money(value)
    return format_count(value)


def trend_words(change: Decimal | None) -> str:
    """A change as a reader says it: "up 12.50%", "down 3.10%", "about the same"."""
    if change is None:
        return _("no comparison (no earlier data)")
    if abs(change) < STEADY:
        return _("about the same")
    if change > 0:
        return _("up %(percent)s") % {"percent": format_percent(change)}
    return _("down %(percent)s") % {"percent": format_percent(-change)}


def _range(low, high) -> str:
    if low is None and high is None:
        return _("not given")
    if low is None:
        return _("up to %(high)s") % {"high": format_money(high)}
    if high is None:
        return _("from %(low)s") % {"low": format_money(low)}
    return f"{format_money(low)} – {format_money(high)}"


def report_title(*, engagement: Engagement) -> str:
    return _("Brand diagnosis report: %(brand)s") % {"brand": engagement.store.brand.name}


def _overview(engagement: Engagement, intake: DiagnosisIntake | None) -> str:
    lines = [
        _("Brand: %(brand)s") % {"brand": engagement.store.brand.name},
        _("Store: %(store)s") % {"store": engagement.store.name},
        _("Engagement: %(title)s, started %(date)s")
        % {"title": engagement.title, "date": engagement.start_date.isoformat()},
    ]
    goal = intake.get_goal_display() if intake else engagement.get_goal_display()
    lines.append(_("Core goal: %(goal)s") % {"goal": goal})
    notes = intake.goal_notes if intake and intake.goal_notes else engagement.goal_notes
    if notes:
        lines.append(notes)
    return "\n".join(lines)


def _goals_and_budget(intake: DiagnosisIntake | None) -> str:
    if intake is None:
        return _("The intake has not been filled in yet.")
    lines = [_("Budget: %(range)s") % {"range": _range(intake.budget_min, intake.budget_max)}]
    if intake.budget_notes:
        lines.append(intake.budget_notes)
    return "\n".join(lines)


def _product(intake: DiagnosisIntake | None) -> str:
    if intake is None:
        return _("The intake has not been filled in yet.")
    lines = [
        _("Category: %(category)s") % {"category": intake.category or _("not given")},
        _("Price band: %(range)s") % {"range": _range(intake.price_low, intake.price_high)},
        _("Average order value (brand's figure): %(aov)s")
        % {"aov": format_money(intake.average_order_value)},
    ]
    if intake.advantages:
        lines += ["", _("Competitive advantages:"), intake.advantages]
    return "\n".join(lines)


def _existing_base(intake: DiagnosisIntake | None) -> str:
    if intake is None:
        return _("The intake has not been filled in yet.")
    lines = [
        _("The brand already has a Tmall store.")
        if intake.has_tmall_store
        else _("The brand has no Tmall store yet.")
    ]
    if intake.past_operations:
        lines += ["", _("Past operating data, as the brand reports it:"), intake.past_operations]
    return "\n".join(lines)


def _baseline(baseline: selectors.Baseline) -> str:
    if not baseline.has_data:
        return _(
            "The store has no data yet: there is no baseline. Upload 生意参谋 exports or enter "
            "past months to get one."
        )
    lines = [
        _("Last day with data: %(date)s") % {"date": baseline.last_data_date.isoformat()},
    ]
    for days, window in sorted(baseline.windows.items()):
        lines += [
            "",
            _("Last %(days)s days (%(start)s – %(end)s), against the %(days)s days before:")
            % {"days": days, "start": window.start.isoformat(), "end": window.end.isoformat()},
        ]
        for name in REPORT_METRICS:
            lines.append(
                _("- %(metric)s: %(value)s (%(trend)s)")
                % {
                    "metric": METRICS[name].label,
                    "value": format_metric(name, window.values.get(name)),
                    "trend": trend_words(window.change(name)),
                }
            )
        if window.values.get("ad_spend") is not None:
            lines.append(
                _("- Paid traffic: spend %(spend)s, %(clicks)s clicks, CPC %(cpc)s, ROI %(roi)s")
                % {
                    "spend": format_metric("ad_spend", window.values.get("ad_spend")),
                    "clicks": format_metric("clicks", window.values.get("clicks")),
                    "cpc": format_metric("cpc", window.values.get("cpc")),
                    "roi": format_metric("roi", window.values.get("roi")),
                }
            )
    short, long = baseline.windows.get(30), baseline.windows.get(90)
    if short and long and short.values.get("gmv") is not None and long.values.get("gmv"):
        # Momentum in words: is the last month running above or below the quarter's pace?
        monthly_pace = Decimal(long.values["gmv"]) / 3
        lines += [
            "",
            (
                _("The last 30 days run above the 90-day monthly pace of %(pace)s.")
                if Decimal(short.values["gmv"]) > monthly_pace
                else _("The last 30 days run below the 90-day monthly pace of %(pace)s.")
            )
            % {"pace": format_money(monthly_pace)},
        ]
    return "\n".join(lines)


def _competitors(competitors: list[Competitor]) -> str:
    if not competitors:
        return _("No competitor snapshots yet.")
    blocks = []
    for competitor in competitors:
        lines = [competitor.name]
        if competitor.store_url:
            lines.append(competitor.store_url)
        lines.append(
            _("Estimated monthly sales: %(sales)s; price band: %(range)s")
            % {
                "sales": format_money(competitor.monthly_sales),
                "range": _range(competitor.price_low, competitor.price_high),
            }
        )
        if competitor.marketing_tactics:
            lines.append(_("Marketing: %(text)s") % {"text": competitor.marketing_tactics})
        if competitor.notes:
            lines.append(competitor.notes)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _personas(personas: list[Persona]) -> str:
    if not personas:
        return _("No audience personas yet.")
    blocks = []
    for persona in personas:
        lines = [persona.name]
        if persona.age_bands:
            lines.append(
                _("Age: %(bands)s") % {"bands": ", ".join(persona.get_age_bands_display())}
            )
        if persona.consumption_habits:
            lines.append(_("Habits: %(text)s") % {"text": persona.consumption_habits})
        if persona.pain_points:
            lines.append(_("Pain points: %(text)s") % {"text": persona.pain_points})
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _findings(
    intake: DiagnosisIntake | None,
    competitors: list[Competitor],
    baseline: selectors.Baseline,
) -> str:
    """A few observations the data supports; staff add their judgement."""
    lines = []
    window = baseline.windows.get(30)
    if window is not None:
        change = window.change("gmv")
        lines.append(
            _("- GMV over the last 30 days: %(value)s, %(trend)s.")
            % {"value": format_money(window.values.get("gmv")), "trend": trend_words(change)}
        )
        conversion = window.change("conversion_rate")
        if conversion is not None and conversion <= -STEADY:
            lines.append(
                _("- Conversion is falling: check detail pages, reviews and customer service.")
            )
        visitors = window.change("visitors")
        if visitors is not None and visitors <= -STEADY:
            lines.append(_("- Traffic is falling: check search ranking and paid campaigns."))
    if intake is not None and intake.price_low is not None:
        priced = [c for c in competitors if c.price_low is not None]
        if priced:
            cheapest = min(c.price_low for c in priced)
            if intake.price_low > cheapest:
                lines.append(
                    _(
                        "- The brand's entry price (%(own)s) is above the cheapest competitor "
                        "(%(theirs)s): the detail pages must carry the difference in value."
                    )
                    % {"own": format_money(intake.price_low), "theirs": format_money(cheapest)}
                )
    lines.append(_("- (Account team: add the key findings and the recommended next steps.)"))
    return "\n".join(lines)


def report_sections_build(*, engagement: Engagement) -> list[dict]:
    """The sections of a fresh draft, in the active language."""
    intake = selectors.diagnosis_intake_of(engagement=engagement)
    competitors = list(selectors.competitor_list(engagement=engagement))
    personas = list(selectors.persona_list(engagement=engagement))
    baseline = selectors.diagnosis_baseline(engagement=engagement)
    return [
        {"key": "overview", "title": _("Overview"), "body": _overview(engagement, intake)},
        {"key": "goals", "title": _("Goal and budget"), "body": _goals_and_budget(intake)},
        {"key": "product", "title": _("Product"), "body": _product(intake)},
        {"key": "existing", "title": _("Existing base"), "body": _existing_base(intake)},
        {"key": "baseline", "title": _("Store baseline"), "body": _baseline(baseline)},
        {"key": "competitors", "title": _("Competitors"), "body": _competitors(competitors)},
        {"key": "personas", "title": _("Audience"), "body": _personas(personas)},
        {
            "key": "findings",
            "title": _("Findings and next steps"),
            "body": _findings(intake, competitors, baseline),
        },
    ]
