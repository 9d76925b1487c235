"""The limits of SPEC §10, in one place."""

MAX_EXPIRE_MINUTES = 259_200  # 180 days
DEFAULT_EXPIRE_MINUTES = MAX_EXPIRE_MINUTES  # null means the maximum
CODE_MAX_LEN = 50
NAME_MAX_LEN = 255
DESCRIPTION_MAX_LEN = 500
VALUE_MIN = 1
VALUE_MAX = 2_147_483_647
MAX_ITEMS_PER_PIXEL_CALL = 100
MAX_AD_CALL_KEY_VALUES = 40
MAX_AD_CALL_KEY_VALUE_LEN = 60
RESERVED_KEY_PREFIX = "kw_"  # ad-call keys the reference reserves: they add no one (SPEC §5.1)
PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 100
MAX_USERSYNC_PIXELS = 100  # our own sanity cap: more partner pixels than this would stall a page
USERSYNC_RESYNC_SECONDS = 7 * 24 * 3600
CATALOG_PROPAGATION_SECONDS = 5
PRIORITY_MIN = 1
PRIORITY_MAX = 20
MAX_SEGMENTS_PER_LINE = 1_800  # a batch file's line (the reference's limit, SPEC §9.2)
TIMESTAMP_MAX = 9_999_999_999  # a batch line's TIMESTAMP: UNIX seconds (milliseconds are wrong)
