"""Every service's fields as the reference's clients see them (SPEC §2.1), one table per service.

For each service: the fields its answers show (type, filterable, sortable), which of them are
read-only (sent back by round trips: accepted and ignored), and the fields the reference documents
for that service which segpixel does not implement (accepted, not stored, named in the answer's
`dbg_info.warnings`). Request bodies (api/schemas.py), listing filters (domain/filters.py),
`/SERVICE/meta` and the OpenAPI document all read these tables; nothing else lists fields.

The "not implemented" lists are the reference's documented JSON fields of the same service
(Digital Platform API: Segment, Advertiser, Member, User, Publisher, Site, Placement, Creative and
Line Item services) minus the ones segpixel has. A name on neither list is a typo: SYNTAX.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from segpixel.domain.filters import (
    ARRAY,
    DATE,
    ENUM,
    INT,
    OBJECT,
    SCALAR_TYPES,
    STRING,
    FieldInfo,
)


def f(name: str, type_: str, *, nullable: bool = False, read_only: bool = False) -> FieldInfo:
    """A field that lists may filter and sort on (scalars) or not (arrays, objects)."""
    scalar = type_ in SCALAR_TYPES
    return FieldInfo(name, type_, scalar, scalar, nullable, read_only)


def shown(name: str, type_: str) -> FieldInfo:
    """A read-only field computed for the answer: neither filtered nor sorted on."""
    return FieldInfo(name, type_, filter=False, sort=False, read_only=True)


ID = f("id", INT, read_only=True)
MEMBER_ID = f("member_id", INT)
NAME = f("name", STRING)
STATE = f("state", ENUM)
LAST_MODIFIED = f("last_modified", DATE, read_only=True)


@dataclass(frozen=True)
class ServiceFields:
    key: str  # the payload key: "line-item"
    plural: str  # "line-items"
    fields: tuple[FieldInfo, ...]
    # read-only fields that the answer derives from what is stored: sent back, they must agree
    derived: frozenset[str] = frozenset()
    unimplemented: tuple[str, ...] = ()
    by_name: dict[str, FieldInfo] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {i.name: i for i in self.fields})
        clash = set(self.by_name) & set(self.unimplemented)
        if clash:  # a table mistake, caught at import
            raise ValueError(f"{self.key}: {sorted(clash)} are both implemented and not")

    @property
    def read_only(self) -> frozenset[str]:
        return frozenset(i.name for i in self.fields if i.read_only)

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.fields if i.sort)

    def meta(self) -> list[dict[str, object]]:
        return [i.as_meta() for i in self.fields]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SEGMENT = ServiceFields(
    "segment",
    "segments",
    (
        ID,
        MEMBER_ID,
        f("advertiser_id", INT, nullable=True),
        f("short_name", STRING),
        f("code", STRING, nullable=True),
        f("description", STRING, nullable=True),
        STATE,
        f("expire_minutes", INT, nullable=True),
        f("max_usersync_pixels", INT),
        shown("type", ENUM),
        f("piggyback_pixels", ARRAY),
        f("querystring_mapping", OBJECT),
        f("querystring_mapping_key_value", OBJECT),
        LAST_MODIFIED,
        shown("active_users_24h", INT),
        shown("daily_loads", OBJECT),
    ),
    derived=frozenset({"type"}),
    unimplemented=_names(
        """category price enable_rm_piggyback parent_segment_id provider_id provider
        object_type data_segment_type_id data_category_id last_activity"""
    ),
)

ADVERTISER = ServiceFields(
    "advertiser",
    "advertisers",
    (ID, MEMBER_ID, NAME, f("code", STRING, nullable=True), STATE, LAST_MODIFIED),
    unimplemented=_names(
        """allow_safety_pacing billing_address1 billing_address2 billing_city billing_country
        billing_internal_user billing_name billing_phone billing_state billing_zip
        legal_entity_name competitive_brands competitive_categories control_pct daily_budget
        daily_budget_imps default_brand default_brand_id default_category default_currency
        enable_pacing enable_political_io_by_default is_malicious is_mediated
        is_running_political_ads labels lifetime_budget lifetime_budget_imps object_stats
        partner_fees profile_id remarketing_segment_id stats timezone thirdparty_pixels
        time_format use_insertion_orders"""
    ),
)

MEMBER = ServiceFields(
    "member",
    "members",
    (
        ID,
        NAME,
        STATE,
        f("redirect_domains", ARRAY),
        FieldInfo("dongle", STRING, filter=False, sort=False),  # a secret: never a filter
        LAST_MODIFIED,
    ),
    unimplemented=_names(
        """allow_ad_profile_override allow_non_cpm_payment app_contract_accepted
        audit_notify_email buyer_clearing_fee_pct buyer_credit_limit contact_email
        content_categories contract_allows_unaudited creative_size_fee_per_gb
        creative_size_minimum_bytes daily_budget daily_budget_imps daily_imps_self_audited
        daily_imps_unaudited daily_imps_verified deal_types
        default_accept_data_provider_usersync default_accept_deals
        default_accept_demand_partner_usersync default_accept_supply_partner_usersync
        default_ad_profile_id default_allow_cpa default_allow_cpc default_buyer_group_id
        default_campaign_allow_unaudited default_campaign_trust
        default_content_retrieval_timeout_ms default_country default_currency
        default_enable_for_mediation default_placement_id developer_id domain_blocklist_email
        email_code enable_click_and_imp_trackers entity_type expose_eap_ecp_placement_settings
        expose_optimization_levers floor_optimization interface_domain interface_domain_beta
        inventory_trust is_iash_compliant max_hosted_video_size mediation
        member_brand_exceptions native_custom_keys no_reselling_priority pitbull_segment_id
        pitbull_segment_value platform_exposure plugins plugins_enabled prioritize_margin
        reporting_decimal_type reselling_description reselling_exposure reselling_exposed_on
        seller_member_groups seller_revshare_pct serving_domain sherlock_notify_email
        short_name standard_sizes thirdparty_pixels timezone use_insertion_orders
        visibility_profile_id website_url"""
    ),
)

USER = ServiceFields(
    "user",
    "users",
    (
        ID,
        f("username", STRING),
        f("role", ENUM),
        f("member_id", INT, nullable=True),
        f("advertiser_id", INT, nullable=True),
        LAST_MODIFIED,
    ),
    unimplemented=_names(
        """state email first_name last_name phone user_type read_only api_login entity_id
        entity_name publisher_id advertiser_access publisher_access reporting_decimal_type
        decimal_mark thousand_separator send_safety_budget_notifications is_developer timezone
        password_expires_on entity_reporting_decimal_type"""
    ),
)

USERSYNC_PIXEL = ServiceFields(  # ours: the reference documents no service of this name
    "usersync-pixel",
    "usersync-pixels",
    (
        ID,
        MEMBER_ID,
        NAME,
        f("url", STRING),
        f("pixel_type", ENUM),
        STATE,
        f("priority", INT),
        LAST_MODIFIED,
    ),
)

PUBLISHER = ServiceFields(
    "publisher",
    "publishers",
    (ID, MEMBER_ID, NAME, STATE, LAST_MODIFIED),
    unimplemented=_names(
        """code expose_domains enable_cookie_tracking_default reselling_exposure
        reselling_exposed_on reselling_name description is_rtb timezone stats max_learn_pct
        learn_bypass_cpm ad_quality_advanced_mode_enabled allow_report_on_default_imps
        default_site_id default_ad_profile_id billing_dba billing_address1 billing_address2
        billing_city billing_state billing_zip billing_country accept_supply_partner_usersync
        accept_demand_partner_usersync accept_data_provider_usersync ym_profile_id
        allow_cpm_managed allow_cpm_external allow_cpa_managed allow_cpa_external
        allow_cpc_managed allow_cpc_external managed_cpc_bias_pct managed_cpa_bias_pct
        external_cpc_bias_pct external_cpa_bias_pct is_oo base_payment_rule_id
        base_ad_quality_rule_id currency visibility_profile_id billing_internal_user labels
        placements external_inv_codes cpm_reselling_disabled cpc_reselling_disabled
        platform_ops_notes pitbull_segment_id pitbull_segment_value publisher_brand_exceptions
        seller_page_cap_enabled inventory_relationship inventory_source inventory_source_name
        contact use_anx_auction_logic"""
    ),
)

SITE = ServiceFields(
    "site",
    "sites",
    (ID, MEMBER_ID, f("publisher_id", INT), NAME, STATE, LAST_MODIFIED),
    unimplemented=_names(
        """code url primary_content_category_id placements content_categories
        intended_audience inventory_attributes audited publisher_join publisher_name
        supply_type creative_format_action creative_formats allowed_click_actions
        marketplace_map mobile_app_instance mobile_app_instance_id"""
    ),
)

PLACEMENT = ServiceFields(
    "placement",
    "placements",
    (ID, MEMBER_ID, f("site_id", INT), NAME, STATE, LAST_MODIFIED),
    unimplemented=_names(
        """code code2 code3 width height is_resizable default_position publisher_id
        publisher_name site_name inventory_source_id ad_profile_id supported_media_types
        supported_media_subtypes pop_values default_creative_id default_creatives
        reserve_price hide_referer default_referrer_url visibility_profile_id exclusive
        pixel_url pixel_type content_categories filtered_advertisers filtered_line_items
        filtered_campaigns segments estimated_clear_prices media_subtypes intended_audience
        inventory_attributes audited audit_level default_calculation_type
        apply_floor_to_direct demand_filter_action floor_application_target pixel_url_secure
        site_audit_status toolbar acb_code tag_data cost_cpm is_prohibited stats
        content_retrieval_timeout_ms enable_for_mediation private_sizes video ad_types
        use_detected_domain mime_types supported_mime_types_action_include
        handles_mixed_media tinytag_renderer_asset_floor_prices
        is_ss_native_assembly_enabled"""
    ),
)

CREATIVE = ServiceFields(
    "creative",
    "creatives",
    (
        ID,
        MEMBER_ID,
        f("advertiser_id", INT),
        NAME,
        STATE,
        f("width", INT),
        f("height", INT),
        FieldInfo("content", STRING, sort=False, nullable=True),
        f("media_url", STRING, nullable=True),
        f("click_url", STRING, nullable=True),
        f("segments", ARRAY),
        LAST_MODIFIED,
    ),
    unimplemented=_names(
        """code code2 type political publisher_id brand_id status click_track_result campaigns
        format template thirdparty_page custom_macros media_url_secure file_name
        flash_click_variable content_secure original_content original_content_secure macros
        audit_status audit_feedback allow_audit ssl_status allow_ssl_audit msft_audit_status
        msft_audit_feedback facebook_audit_status facebook_audit_feedback is_self_audited
        is_expired is_prohibited is_hosted lifetime_budget lifetime_budget_imps daily_budget
        daily_budget_imps enable_pacing allow_safety_pacing profile_id folder line_items pixels
        pixel_url pixel_url_secure pixel_type no_iframes track_clicks flash_backup_content
        flash_backup_file_name flash_backup_url is_control created_on last_activity
        media_subtypes creative_upload_status backup_upload_status use_dynamic_click_url
        size_in_bytes text_title text_description text_display_url click_action click_target
        categories adservers technical_attributes language brand pop_values sla sla_eta
        currency first_run last_run mobile video_attribute stats content_source
        custom_request_template competitive_brands competitive_categories thirdparty_pixels
        native native_attribute click_trackers impression_trackers adx_audit
        flash_backup_url_secure msft_external_audit_feedback msft_external_audit_status
        media_assets ad_type"""
    ),
)

LINE_ITEM = ServiceFields(
    "line-item",
    "line-items",
    (
        ID,
        MEMBER_ID,
        f("advertiser_id", INT),
        NAME,
        STATE,
        f("priority", INT),
        f("weight", INT, nullable=True),
        f("creatives", ARRAY),
        f("profile", OBJECT),
        LAST_MODIFIED,
    ),
    unimplemented=_names(
        """code line_item_type start_date end_date timezone discrepancy_pct publishers_allowed
        revenue_value revenue_type goal_type goal_value click_url currency
        require_cookie_for_tracking profile_id comments remaining_days total_days
        manage_creative advertiser flat_fee flat_fee_type labels broker_fees pixels
        insertion_orders goal_pixels imptrackers clicktrackers campaigns valuation
        budget_intervals roadblock lifetime_budget lifetime_budget_imps daily_budget
        daily_budget_imps enable_pacing allow_safety_pacing lifetime_pacing
        lifetime_pacing_span lifetime_pacing_pct payout_margin insertion_order_id stats
        all_stats object_stats first_run last_run expected_pacing total_pacing
        has_pacing_dollars has_pacing_imps imps_pacing_percent rev_pacing_percent alerts
        creative_distribution_type is_archived archived_on"""
    ),
)


def job(name: str, type_: str, *, sort: bool = False) -> FieldInfo:
    """A field of a job (report, batch upload): read by id, not filtered."""
    return FieldInfo(name, type_, filter=False, sort=sort, read_only=True)


REPORT = ServiceFields(  # GET /report[?id=] (SPEC §8); POST /report takes the request itself
    "report",
    "reports",
    (
        job("id", STRING, sort=True),
        job("report_type", ENUM),
        job("execution_status", ENUM),
        job("member_id", INT),
        job("columns", ARRAY),
        job("report_interval", ENUM),
        job("start_date", DATE),
        job("end_date", DATE),
        job("format", ENUM),
        job("row_count", INT),
        job("error", STRING),
        job("created_on", DATE),
        job("last_modified", DATE),
        job("url", STRING),
    ),
)

BATCH_SEGMENT = ServiceFields(  # GET /batch-segment (SPEC §9.1)
    "batch-segment",
    "batch-segments",
    (
        job("id", INT, sort=True),
        job("status", ENUM, sort=True),
        job("member_id", INT),
        job("bytes", INT),
        job("bytes_read", INT),
        job("lines_read", INT),
        job("users_updated", INT),
        job("rejected_lines", INT),
        job("error", STRING),
        job("created_on", DATE),
        job("last_modified", DATE),
        job("rejected", ARRAY),
        # the reference's Batch Segment Service (SPEC §9.2)
        job("job_id", STRING),
        job("phase", ENUM),
        job("upload_url", STRING),
        job("start_time", DATE),
        job("uploaded_time", DATE),
        job("validated_time", DATE),
        job("completed_time", DATE),
        job("error_code", STRING),
        job("time_to_process", STRING),
        job("percent_complete", INT),
        job("num_valid", INT),
        job("num_valid_user", INT),
        job("num_invalid_format", INT),
        job("num_invalid_user", INT),
        job("num_invalid_segment", INT),
        job("num_invalid_timestamp", INT),
        job("num_unauth_segment", INT),
        job("num_past_expiration", INT),
        job("num_inactive_segment", INT),
        job("num_other_error", INT),
        job("error_log_lines", STRING),
        job("segment_log_lines", STRING),
    ),
)

BATCH_SEGMENT_CONFIG = ServiceFields(  # GET/PUT /batch-segment-config?member_id= (SPEC §9.2)
    "batch-segment-config",
    "batch-segment-configs",
    (
        job("id", INT),
        job("member_id", INT),
        FieldInfo("separator_1", STRING, filter=False, sort=False),
        FieldInfo("separator_2", STRING, filter=False, sort=False),
        FieldInfo("separator_3", STRING, filter=False, sort=False),
        FieldInfo("separator_4", STRING, filter=False, sort=False, nullable=True),
        FieldInfo("segment_fields", ARRAY, filter=False, sort=False),
        job("created_on", DATE),
        job("last_modified", DATE),
    ),
    unimplemented=_names(
        """separator_5 daily_byte_limit daily_num_lines_limit hourly_byte_limit
        hourly_num_lines_limit max_concurrent_uploads num_error_log_lines
        num_invalid_before_error default_domain default_expiration use_external_uids
        external_member_uid member_segment_access use_specific_geo"""
    ),
)

# One object a member, addressed by ?member_id= (no ids to list or round-trip): only /meta.
MEMBER_SETTINGS = {BATCH_SEGMENT_CONFIG.key: BATCH_SEGMENT_CONFIG}

SERVICES = {
    s.key: s
    for s in (
        SEGMENT,
        ADVERTISER,
        MEMBER,
        USER,
        USERSYNC_PIXEL,
        PUBLISHER,
        SITE,
        PLACEMENT,
        CREATIVE,
        LINE_ITEM,
        REPORT,
        BATCH_SEGMENT,
    )
}
