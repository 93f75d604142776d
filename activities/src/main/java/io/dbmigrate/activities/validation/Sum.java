package io.dbmigrate.activities.validation;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.math.BigInteger;

/** Rows and the sum of their 64-bit hashes (decimal text: PostgreSQL sums bigints as numeric). */
public record Sum(@JsonProperty("rows") long rows, @JsonProperty("hash") String hash) {
    static final Sum ZERO = new Sum(0, "0");

    Sum plus(Sum o) {
        return new Sum(rows + o.rows, new BigInteger(hash).add(new BigInteger(o.hash)).toString());
    }
}
