from wellapi.store import connections as db
from wellapi.store.sql import fixed


def test_api_role_reads_the_migrated_schema(api_database):
    rows = db.execute([fixed("SELECT current_user, count(*) FROM core_api.workspaces")])
    assert rows == [["well_api", 0]]
