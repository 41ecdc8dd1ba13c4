"""The retention-CLV exercises of docs/domain §6, checked by the domain and the API tests alike."""

from app.domain.clv import Convention

EOY, RET, SOY = Convention.END_OF_YEAR, Convention.RETAINED_ONLY, Convention.START_OF_YEAR


# Exercise (seed): spend 2000, margin 50 %, r 0.8, d 8 %: unbounded 3571.43 / 2857.14 /
# 3857.14; T = 5: 2774.95 / 2219.96 / 2996.95 — the "a / b / c" order of the docs is
# end_of_year / retained_only / start_of_year. Exercise: 5000, 25 %, 0.7, 6 %: unbounded
# 3472.22 / 2430.56 / 3680.56.
DOMAIN_EXERCISES = [
    ("2000", "0.5", "0.8", "0.08", None, EOY, "3571.43"),
    ("2000", "0.5", "0.8", "0.08", None, RET, "2857.14"),
    ("2000", "0.5", "0.8", "0.08", None, SOY, "3857.14"),
    ("2000", "0.5", "0.8", "0.08", 5, EOY, "2774.95"),
    ("2000", "0.5", "0.8", "0.08", 5, RET, "2219.96"),
    ("2000", "0.5", "0.8", "0.08", 5, SOY, "2996.95"),
    ("5000", "0.25", "0.7", "0.06", None, EOY, "3472.22"),
    ("5000", "0.25", "0.7", "0.06", None, RET, "2430.56"),
    ("5000", "0.25", "0.7", "0.06", None, SOY, "3680.56"),
]
