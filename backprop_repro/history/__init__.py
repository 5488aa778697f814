"""History across commits and machines: records kept in an SQLite database (:mod:`.store`), read back as runs of
each quantity per environment fingerprint in commit order (:mod:`.show`), and the commit that moved a quantity's
bits found by bisection (:mod:`.bisect`)."""
