"""A few of the pixel suite's tests over HTTP, with the server's profiles and load counters on the
Redis Cluster (conftest.py): adds and removes, bidder reads, reports with uniques, /health."""

from tests.pixel.test_bidder_reads import (  # noqa: F401 (collected here, on the cluster)
    shop,
    test_openrtb_user_data_fills_user_data_with_string_ids_and_values,
    test_user_segments_lists_the_members_active_memberships,
)
from tests.pixel.test_params import (  # noqa: F401
    test_add_takes_comma_separated_ids_each_with_an_optional_value,
    test_adds_are_applied_before_removes,
    test_remove_and_remove_code,
)
from tests.pixel.test_reports import (  # noqa: F401
    test_days_and_months_are_counted_in_utc,
    test_every_source_is_counted_and_removes_are_not,
    test_segments_show_their_quick_stats,
)
from tests.pixel.test_status import (  # noqa: F401
    test_health_reports_store_catalog_and_journal,
)
