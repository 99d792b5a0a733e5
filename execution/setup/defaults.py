"""The two checklist templates every agency starts with: opening a new store on Tmall, and taking
over an existing one. They are written once per agency, in the agency's default language (a
Chinese agency gets 营业执照, an English one "Business licence (营业执照)": the Chinese term stays,
because Tmall's own back office uses it), and are the agency's own data from then on: its admins
rename, reorder and extend them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agency.models import StoreSituation
from execution.models.setup import DocumentKind, SetupSection

S = SetupSection
D = DocumentKind


@dataclass(frozen=True)
class DefaultItem:
    section: str
    title: Promise
    description: Promise
    due_days: int
    document_kind: str = ""
    brand_visible: bool = True
    needs_brand_approval: bool = False
    per_main_product: bool = False


NEW_STORE_ITEMS = (
    DefaultItem(
        S.QUALIFICATION,
        _("Business licence (营业执照)"),
        _("A clear scan of the company's current business licence, with its validity period."),
        7,
        D.BUSINESS_LICENCE,
    ),
    DefaultItem(
        S.QUALIFICATION,
        _("Brand authorisation (品牌授权书)"),
        _(
            "The trademark owner's authorisation for this store, covering the whole engagement; "
            "note its expiry date."
        ),
        7,
        D.BRAND_AUTHORISATION,
    ),
    DefaultItem(
        S.QUALIFICATION,
        _("Trademark registration certificate (商标注册证)"),
        _("The registration certificate (or the accepted application) of the brand's mark."),
        7,
        D.TRADEMARK,
    ),
    DefaultItem(
        S.QUALIFICATION,
        _("Quality inspection report (质检报告)"),
        _("A report from an accredited lab for each product line, issued within the last year."),
        14,
        D.QUALITY_REPORT,
    ),
    DefaultItem(
        S.REGISTRATION,
        _("Submit the entry application (入驻申请提交)"),
        _("Fill in the Tmall merchant entry application with the documents above."),
        10,
    ),
    DefaultItem(
        S.REGISTRATION,
        _("Qualification review (资质审核)"),
        _("Follow Tmall's review; answer its questions and resubmit documents it asks for."),
        24,
    ),
    DefaultItem(
        S.REGISTRATION,
        _("Pay the deposit and annual fee (缴纳保证金与年费)"),
        _("The brand pays the store deposit and the category's annual software fee."),
        30,
    ),
    DefaultItem(
        S.REGISTRATION,
        _("Name the store and open it (店铺命名与开店)"),
        _("Agree the store name with the brand, complete the store profile and open the store."),
        35,
    ),
    DefaultItem(
        S.REGISTRATION,
        _("Sub-accounts and customer-service routing (子账号与客服分流)"),
        _("Create the team's sub-accounts with their permissions and route customer service."),
        35,
        brand_visible=False,
    ),
    DefaultItem(
        S.VISUAL,
        _("Homepage (首页)"),
        _("Design of the store homepage: banner, categories, main products; the brand approves."),
        45,
        needs_brand_approval=True,
    ),
    DefaultItem(
        S.VISUAL,
        _("Detail page (详情页)"),
        _("The product's detail page: main images, selling points, specifications, reviews."),
        50,
        needs_brand_approval=True,
        per_main_product=True,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Category mapping (类目映射)"),
        _("Map every product to its Tmall category and fill in the required attributes."),
        40,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Title keywords (标题关键词)"),
        _("A search title of up to 60 characters built from the product's main keywords."),
        42,
        per_main_product=True,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Price and stock settings (价格与库存设置)"),
        _("Prices, SKUs and stock levels as agreed with the brand; stock sync with the ERP."),
        42,
    ),
)

EXISTING_STORE_ITEMS = (
    DefaultItem(
        S.QUALIFICATION,
        _("Brand authorisation renewal check (品牌授权书续期检查)"),
        _("Check the authorisation's expiry date and start the renewal in good time."),
        7,
        D.BRAND_AUTHORISATION,
    ),
    DefaultItem(
        S.QUALIFICATION,
        _("Quality inspection reports up to date (质检报告更新)"),
        _("Every product line on sale has a report issued within the last year."),
        14,
        D.QUALITY_REPORT,
    ),
    DefaultItem(
        S.VISUAL,
        _("Homepage refresh (首页改版)"),
        _("Refresh the homepage for the season and the main products; the brand approves."),
        30,
        needs_brand_approval=True,
    ),
    DefaultItem(
        S.VISUAL,
        _("Detail page optimisation (详情页优化)"),
        _("Rework the detail page where conversion is weak: main images, selling points."),
        30,
        needs_brand_approval=True,
        per_main_product=True,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Category and attribute audit (类目与属性核查)"),
        _("Check each product's category and attributes against Tmall's current rules."),
        14,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Title keyword audit (标题关键词优化)"),
        _("Rewrite the title around the keywords that bring visitors and buyers."),
        21,
        per_main_product=True,
    ),
    DefaultItem(
        S.BASE_SETTINGS,
        _("Sub-account permissions review (子账号权限检查)"),
        _("Remove the previous operator's access; give the team the permissions it needs."),
        3,
        brand_visible=False,
    ),
)

DEFAULT_TEMPLATES: dict[str, tuple[Promise, tuple[DefaultItem, ...]]] = {
    StoreSituation.NEW: (_("New store opening (新店入驻开店)"), NEW_STORE_ITEMS),
    StoreSituation.EXISTING: (_("Existing store optimisation (老店优化)"), EXISTING_STORE_ITEMS),
}
