"""The diff between two proposal versions: added, removed and changed rows, by section."""

from proposals.diff import diff_is_empty, version_diff


def content(**overrides):
    base = {
        "scope_services": ["setup", "traffic"],
        "targets": [
            {
                "metric": "gmv",
                "comparison": ">=",
                "value": "500000.00",
                "period": "month",
                "by_month": 3,
            },
            {"metric": "roi", "comparison": ">=", "value": "3", "period": "month", "by_month": 3},
        ],
        "milestones": [{"month": 1, "title": "店铺装修上线", "description": ""}],
        "resources": [
            {
                "kind": "paid_budget",
                "channel": "zhitongche",
                "month": 1,
                "description": "",
                "amount": "20000.00",
            }
        ],
        "responsibilities": [
            {"party": "brand", "task": "提供质检报告", "owner": "张三", "due_date": "2026-12-01"}
        ],
        "fees": {
            "monthly_base_fee": "30000.00",
            "kpi_bonus": "",
            "commission_tiers": [{"gmv_from": "0.00", "gmv_to": None, "rate_percent": "3.00"}],
        },
        "terms": "按月结算。",
        "planner": None,
    }
    base.update(overrides)
    return base


def test_the_same_content_has_an_empty_diff():
    assert diff_is_empty(version_diff(content(), content()))


def test_targets_are_added_removed_and_changed_by_metric_period_and_month():
    old = content()
    new = content(
        targets=[
            {
                "metric": "gmv",
                "comparison": ">=",
                "value": "600000.00",
                "period": "month",
                "by_month": 3,
            },
            {
                "metric": "visitors",
                "comparison": ">=",
                "value": "100000",
                "period": "month",
                "by_month": 2,
            },
        ]
    )
    diff = version_diff(old, new)["targets"]
    assert [row["metric"] for row in diff["added"]] == ["visitors"]
    assert [row["metric"] for row in diff["removed"]] == ["roi"]
    [changed] = diff["changed"]
    assert changed["fields"] == ["value"]
    assert (changed["before"]["value"], changed["after"]["value"]) == ("500000.00", "600000.00")


def test_fees_milestones_resources_scope_and_terms_changes_are_listed():
    new = content(
        scope_services=["setup", "traffic", "monitoring"],
        milestones=[{"month": 2, "title": "店铺装修上线", "description": ""}],
        resources=[
            {
                "kind": "paid_budget",
                "channel": "zhitongche",
                "month": 1,
                "description": "",
                "amount": "25000.00",
            }
        ],
        fees={
            "monthly_base_fee": "28000.00",
            "kpi_bonus": "GMV 达标奖励 2 万",
            "commission_tiers": [
                {"gmv_from": "0.00", "gmv_to": "1000000.00", "rate_percent": "3.00"},
                {"gmv_from": "1000000.00", "gmv_to": None, "rate_percent": "2.00"},
            ],
        },
        terms="按季度结算。",
    )
    diff = version_diff(content(), new)
    assert diff["scope_services"]["added"] == ["monitoring"]
    assert len(diff["milestones"]["added"]) == 1 and len(diff["milestones"]["removed"]) == 1
    assert diff["resources"]["changed"][0]["fields"] == ["amount"]
    fees = diff["fees"]
    assert {c["key"] for c in fees["changed"]} >= {"monthly_base_fee", "kpi_bonus"}
    assert [t["gmv_from"] for t in fees["added"]] == ["1000000.00"]
    assert any(c.get("fields") == ["gmv_to"] for c in fees["changed"])
    assert diff["terms"]["changed"][0]["after"] == {"terms": "按季度结算。"}
    assert diff["responsibilities"] == {"added": [], "removed": [], "changed": []}


def test_whether_the_brand_approves_the_visual_designs_is_a_change_of_scope():
    diff = version_diff(content(), content(brand_approves_visuals=False))
    assert diff["scope_services"]["changed"] == [
        {
            "key": "brand_approves_visuals",
            "before": {"brand_approves_visuals": True},
            "after": {"brand_approves_visuals": False},
            "fields": ["brand_approves_visuals"],
        }
    ]
    # A version sent before the question existed reads as "yes".
    assert diff_is_empty(version_diff(content(), content(brand_approves_visuals=True)))
