"""What changed between two versions of a proposal, section by section.

Works on the frozen content snapshots (`ProposalVersion.content()`), so any two versions compare,
sent or draft. Rows of a list section are matched by a natural key (a target by its metric,
period and month; a milestone by its month and title; ...): a row whose key is only in the new
version is added, only in the old one removed, and in both with other values changed, with the
names of the fields that differ.
"""

from __future__ import annotations

from collections.abc import Callable

ROW_KEYS: dict[str, Callable[[dict], tuple]] = {
    "targets": lambda row: (row["metric"], row["period"], row["by_month"]),
    "milestones": lambda row: (row["month"], row["title"]),
    "resources": lambda row: (row["kind"], row["channel"], row.get("month")),
    "responsibilities": lambda row: (row["party"], row["task"]),
}
SECTIONS = (
    "scope_services",
    "targets",
    "milestones",
    "resources",
    "responsibilities",
    "fees",
    "terms",
)


def _empty() -> dict:
    return {"added": [], "removed": [], "changed": []}


def _key_label(key: tuple) -> str:
    return " · ".join(str(part) for part in key if part not in (None, ""))


def _rows_diff(old_rows: list[dict], new_rows: list[dict], key: Callable[[dict], tuple]) -> dict:
    result = _empty()
    old_by_key = {key(row): row for row in old_rows}
    new_by_key = {key(row): row for row in new_rows}
    for row_key, row in new_by_key.items():
        if row_key not in old_by_key:
            result["added"].append(row)
        elif row != old_by_key[row_key]:
            before = old_by_key[row_key]
            fields = sorted(
                name for name in set(before) | set(row) if before.get(name) != row.get(name)
            )
            result["changed"].append(
                {"key": _key_label(row_key), "before": before, "after": row, "fields": fields}
            )
    result["removed"] = [row for row_key, row in old_by_key.items() if row_key not in new_by_key]
    return result


def _fees_diff(old: dict, new: dict) -> dict:
    """Fee fields compare one by one; commission tiers compare as rows keyed by where they start."""
    result = _empty()
    for name in ("monthly_base_fee", "kpi_bonus"):
        if old.get(name) != new.get(name):
            result["changed"].append(
                {
                    "key": name,
                    "before": {name: old.get(name)},
                    "after": {name: new.get(name)},
                    "fields": [name],
                }
            )
    tiers = _rows_diff(
        old.get("commission_tiers", []),
        new.get("commission_tiers", []),
        lambda tier: ("commission_tier", tier["gmv_from"]),
    )
    for change in ("added", "removed", "changed"):
        result[change].extend(tiers[change])
    return result


def version_diff(old: dict, new: dict) -> dict:
    """`{section: {"added": [...], "removed": [...], "changed": [...]}}` from old to new."""
    diff = {}
    for section in SECTIONS:
        if section in ROW_KEYS:
            diff[section] = _rows_diff(
                old.get(section, []), new.get(section, []), ROW_KEYS[section]
            )
        elif section == "fees":
            diff[section] = _fees_diff(old.get("fees") or {}, new.get("fees") or {})
        elif section == "scope_services":
            before, after = set(old.get(section, [])), set(new.get(section, []))
            diff[section] = {
                "added": sorted(after - before),
                "removed": sorted(before - after),
                "changed": [],
            }
            approves = [part.get("brand_approves_visuals", True) for part in (old, new)]
            if approves[0] != approves[1]:
                diff[section]["changed"].append(
                    {
                        "key": "brand_approves_visuals",
                        "before": {"brand_approves_visuals": approves[0]},
                        "after": {"brand_approves_visuals": approves[1]},
                        "fields": ["brand_approves_visuals"],
                    }
                )
        else:  # terms: one text
            diff[section] = _empty()
            if (old.get(section) or "") != (new.get(section) or ""):
                diff[section]["changed"].append(
                    {
                        "key": section,
                        "before": {section: old.get(section) or ""},
                        "after": {section: new.get(section) or ""},
                        "fields": [section],
                    }
                )
    return diff


def diff_is_empty(diff: dict) -> bool:
    return not any(part[change] for part in diff.values() for change in part)
