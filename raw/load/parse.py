"""Cut the files of one header layout into records and typed values, set-based in DuckDB.

DuckDB reads each file as text and splits it into physical lines, so each record's line number and original
text are exact (DuckDB's read_csv numbers neither good rows nor, reliably, multi-line records). Lines with an
odd number of quotes are paired into records whose quoted value spans a newline (_pair_multi_line_records).
A simple record (values unquoted, or quoted with neither a quote nor a comma inside: the usual case) is cut
into fields by splitting on commas; any other record is cut with one regular expression; both cuts give the
same fields where both apply (the tests compare them). Values are validated with format checks plus TRY_CAST
per column. No Python loop over rows.

Rules for what a record is:
- A pair of odd-quote lines is one record only when its joined text is a well-formed record with the
  header's number of fields, within MAX_RECORD_LINES lines; otherwise its first line is a record of its own
  (quarantined for its quoting) and pairing resumes at the next odd line. One stray quote costs one line.
- A CRLF or LF ends a line; the CR of a record's own CRLF ending is dropped, a CR inside a quoted value
  (including before a newline inside it) is kept as delivered.
- A last line without a line ending is quarantined ('the file may have been cut short'): a number cut short
  (1500 delivered as 15) is complete in columns and could not be told apart. Files end with a line ending
  as CSV writers write them; an exporter that omits the final one sees its last record set aside, with that
  reason, and loses nothing.
"""

from __future__ import annotations

import duckdb

from raw.contract import TableSpec
from raw.load.files import Header
from raw.load.schema import ident, literal

# A quoted value may hold newlines; a record longer than this many lines is taken for a stray quote.
MAX_RECORD_LINES = 1000

# A field is a quoted value (doubled quotes inside) or an unquoted run without comma or quote. Every field is
# matched together with the comma in front of it (a comma is prepended to the record), so no match is empty.
_FIELD = r',("(?:[^"]|"")*"|[^,"]*)'
_RECORD = f"({_FIELD})+"
# A simple record: every field unquoted, or quoted with neither a quote nor a comma inside. Splitting it on
# its commas gives exactly the fields _FIELD finds, so it can skip the costly list extraction.
_SIMPLE_RECORD = r'(?:"[^",]*"|[^,"]*)(?:,(?:"[^",]*"|[^,"]*))*'

# Format checks before TRY_CAST, because DuckDB's casts are lenient: '1.5' casts to INTEGER 2, a timestamp
# without offset takes the session time zone, '2024-03-07 10:00' casts to a DATE.
_WHOLE = r"^\s*[+-]?[0-9]+\s*$"
_DATE = r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\s*$"
_TIMESTAMPTZ = (
    r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"
)
_TYPE_RULES: dict[str, tuple[str | None, str]] = {
    "INTEGER": (_WHOLE, "a whole number between -2147483648 and 2147483647"),
    "BIGINT": (_WHOLE, "a whole number"),
    "DATE": (_DATE, "a date as YYYY-MM-DD"),
    "TIMESTAMPTZ": (_TIMESTAMPTZ, "an ISO 8601 timestamp with an offset, like 2024-03-07T09:15:00+02:00"),
    "BOOLEAN": (None, "true or false"),
}


def stage_records(con: duckdb.DuckDBPyConnection, paths: list[str], width: int) -> None:
    """Temp view _records(filename, line_number, raw_line, is_simple, unterminated): one row per CSV record
    after each header; is_simple tells whether the record matches _SIMPLE_RECORD, unterminated whether it
    ends the file without a line ending. `width` is the header's number of fields."""
    con.execute(
        """
        create or replace temp table _lines as
        with split as (
            -- whether a file holds a carriage return at all is one cheap pass; most lines skip the CR check
            select filename, contains(content, chr(13)) as has_cr, string_split(content, chr(10)) as lines
            from read_text(?)
        ),
        numbered as (
            select
                filename,
                has_cr,
                unnest(lines) as line,
                unnest(range(1, len(lines) + 1)) as line_number,
                len(lines) as line_count
            from split
        ),
        trimmed as (
            select
                filename,
                line_number,
                -- one CR before the newline is part of a CRLF line ending; it is kept inside a quoted value
                -- that spans lines (see _joined_records)
                has_cr and ends_with(line, chr(13)) as ends_cr,
                case when has_cr and ends_with(line, chr(13)) then line[:-2] else line end as line,
                -- every line but the last ends with a newline; the last piece is empty when the file does
                line_number = line_count as unterminated
            from numbered
            -- the header is read separately; the empty piece after a final newline is no line
            where line_number > 1 and not (line_number = line_count and line = '')
        ),
        classified as (
            -- one regular-expression pass per line: a simple record is also one with an even quote count
            select *, regexp_full_match(line, ?) as is_simple
            from trimmed
        )
        select
            *,
            -- A simple record has two quotes per quoted value, so only the other lines need the quote count.
            -- An even number of quotes is a full match of this pattern, which is faster than counting them.
            case
                when is_simple then false
                else contains(line, '"') and not regexp_full_match(line, '[^"]*(?:"[^"]*"[^"]*)*')
            end as has_odd_quotes
        from classified
        """,
        [paths, _SIMPLE_RECORD],
    )
    (multi_line,) = con.execute("select coalesce(bool_or(has_odd_quotes), false) from _lines").fetchone()
    if not multi_line:
        # Fast path, the usual case: every record is one line. A view, since copying the lines costs time.
        con.execute(
            "create or replace temp view _records as "
            "select filename, line_number, line as raw_line, is_simple, unterminated from _lines"
        )
        return
    _pair_multi_line_records(con, width)
    con.execute(
        """
        create or replace temp table _joined_records as
        with span_lines as (
            select spans.filename, spans.first_line, spans.last_line, _lines.*  exclude (filename)
            -- an as-of join finds each line's latest span start by sorting; a range join would loop
            from _lines
            asof join _spans as spans
                on _lines.filename = spans.filename and _lines.line_number >= spans.first_line
            where _lines.line_number <= spans.last_line
        ),
        single_lines as (
            select filename, line_number, line as raw_line, is_simple, unterminated
            from _lines
            anti join span_lines using (filename, line_number)
        ),
        joined_spans as (
            select
                filename,
                first_line as line_number,
                string_agg(
                    line || case when ends_cr and line_number < last_line then chr(13) else '' end,
                    chr(10) order by line_number
                ) as raw_line,
                bool_or(unterminated) as unterminated
            from span_lines
            group by filename, first_line
        )
        select * from single_lines
        union all
        select filename, line_number, raw_line, regexp_full_match(raw_line, ?), unterminated
        from joined_spans
        """,
        [_SIMPLE_RECORD],
    )
    con.execute("create or replace temp view _records as select * from _joined_records")


def _pair_multi_line_records(con: duckdb.DuckDBPyConnection, width: int) -> None:
    """Temp table _spans(filename, first_line, last_line): the records that span several lines.

    Lines with an odd number of quotes open and close quoted values over a newline: the 1st such line of a
    file opens a record, the 2nd closes it, and so on. One stray quote would shift that pairing and join
    every following line into one record, so a pair is kept only when its joined text is one well-formed
    record with the header's number of fields and at most MAX_RECORD_LINES lines. Where a pair fails, its
    opening line is left as a record of its own (quarantined for its quoting) and the pairing goes on from
    the next odd line. Every pair of consecutive odd lines is judged in one query; the walk over them runs
    only for files where a pair of the plain pairing failed.
    """
    con.execute(
        f"""
        create or replace temp table _pairs as
        with numbered as (
            select
                filename,
                line_number,
                row_number() over (partition by filename order by line_number) as odd_number
            from _lines
            where has_odd_quotes
        ),
        pairs as (
            select opening.filename, opening.odd_number, opening.line_number as first_line,
                closing.line_number as last_line
            from numbered as opening
            join numbered as closing
                on closing.filename = opening.filename and closing.odd_number = opening.odd_number + 1
            where closing.line_number - opening.line_number < {MAX_RECORD_LINES}
        ),
        -- Pairs starting at odd and at even odd numbers overlap each other but not among themselves, so each
        -- set finds its lines with an as-of join (a sort); a range join would loop.
        odd_starts as (select * from pairs where odd_number % 2 = 1),
        even_starts as (select * from pairs where odd_number % 2 = 0),
        span_lines as (
            select p.odd_number, p.last_line, _lines.*
            from _lines
            asof join odd_starts as p
                on _lines.filename = p.filename and _lines.line_number >= p.first_line
            where _lines.line_number <= p.last_line
            union all
            select p.odd_number, p.last_line, _lines.*
            from _lines
            asof join even_starts as p
                on _lines.filename = p.filename and _lines.line_number >= p.first_line
            where _lines.line_number <= p.last_line
        ),
        joined as (
            select
                filename,
                odd_number,
                ',' || string_agg(
                    line || case when ends_cr and line_number < last_line then chr(13) else '' end,
                    chr(10) order by line_number
                ) as text
            from span_lines
            group by filename, odd_number
        )
        select
            pairs.filename,
            pairs.odd_number,
            pairs.first_line,
            pairs.last_line,
            regexp_full_match(joined.text, {literal(_RECORD)})
                and len(regexp_extract_all(joined.text, {literal(_FIELD)}, 1)) = {width} as is_record
        from pairs
        join joined using (filename, odd_number)
        """
    )
    # Plain pairing (1st with 2nd, 3rd with 4th, ...) where every such pair of a file is a record.
    broken = [
        row[0]
        for row in con.execute(
            """
            with odd as (select filename, count(*) as odd_lines from _lines where has_odd_quotes group by 1),
            plain as (
                select filename, count(*) filter (where odd_number % 2 = 1 and is_record) as records
                from _pairs
                group by 1
            )
            select filename from odd left join plain using (filename)
            where coalesce(plain.records, 0) < odd.odd_lines // 2
            """
        ).fetchall()
    ]
    con.execute(
        "create or replace temp table _spans as select filename, first_line, last_line from _pairs "
        "where odd_number % 2 = 1 and filename not in (select unnest(?::varchar[]))",
        [broken],
    )
    if not broken:
        return
    # The walk for the files where a pair failed: a record pair takes both lines, a failed one its opener.
    chosen: list[tuple[str, int, int]] = []
    for filename in broken:
        valid = {
            number: (first, last)
            for number, first, last in con.execute(
                "select odd_number, first_line, last_line from _pairs where filename = ? and is_record",
                [filename],
            ).fetchall()
        }
        (odd_count,) = con.execute(
            "select count(*) from _lines where filename = ? and has_odd_quotes", [filename]
        ).fetchone()
        number = 1
        while number < odd_count:
            if number in valid:
                chosen.append((filename, *valid[number]))
                number += 2
            else:
                number += 1
    if chosen:
        con.execute(
            "insert into _spans select unnest(?::varchar[]), unnest(?::bigint[]), unnest(?::bigint[])",
            [[c[0] for c in chosen], [c[1] for c in chosen], [c[2] for c in chosen]],
        )


def _typed(column_name: str) -> str:
    """Name of a column's typed value beside its text in the checking query."""
    return ident(f"_typed_{column_name}")


def _reason_sql(table: TableSpec, header: Header) -> str:
    """SQL for the reason a record is quarantined (NULL when it loads), over the `typed` columns: each
    column's text and, for a non-VARCHAR column, its TRY_CAST value (named by _typed)."""
    checks = []
    for column in table.columns:
        if column.name not in header.positions:
            continue
        value = ident(column.name)
        if column.required:
            empty = literal(f"column {column.name}: required value is empty")
            checks.append(f"case when {value} is null then {empty} end")
        if column.type == "VARCHAR":
            continue
        pattern, expected = _TYPE_RULES.get(column.type, (None, f"a {column.type}"))
        valid = f"{_typed(column.name)} is not null"
        if pattern:
            valid = f"regexp_full_match({value}, {literal(pattern)}) and {valid}"
        message = f"column {column.name}: value '{{}}' is not {expected}"
        checks.append(
            f"case when {value} is not null and not ({valid}) "
            f"then format({literal(message)}, left({value}, 80)) end"
        )
    field_count = literal(f"wrong number of fields: expected {header.width} (as in the header), found {{}}")
    return f"""
        case
            when unterminated then 'last line has no line ending: the file may have been cut short'
            when not well_formed then 'malformed quoting: a quote inside an unquoted value or never closed'
            when raw_line = '' then 'blank line'
            when field_count <> {header.width} then format({field_count}, field_count)
            else nullif(concat_ws('; ', {", ".join(checks) or "null"}), '')
        end"""


def stage_checked(con: duckdb.DuckDBPyConnection, staged: str, table: TableSpec, header: Header) -> None:
    """Temp table `staged`: each record of _records as values of the contract's types and its reason.

    Two exact ways to cut a record into fields, chosen per record in one pass: a simple record (see
    _SIMPLE_RECORD) has its quotes dropped and is split on its commas, which is much faster than extracting a
    list of fields with a regular expression; every other record (escaped quotes, commas or stray quotes)
    goes that way and has each quoted field unquoted. Each value is cast once (TRY_CAST, NULL when it does not
    cast): the check reads the cast value and the insert copies it.
    """
    texts, typed, values = [], [], []
    for column in table.columns:
        name = ident(column.name)
        position = header.positions.get(column.name)
        texts.append(f"nullif(fields[{position}], '') as {name}" if position else f"null::varchar as {name}")
        if column.type == "VARCHAR":
            values.append(name)
            continue
        typed.append(f"try_cast(trim({name}) as {column.type}) as {_typed(column.name)}")
        values.append(f"{_typed(column.name)} as {name}")
    if header.extras:
        pairs = ", ".join(
            f"{literal(name)}, nullif(fields[{position}], '')"
            for name, position in sorted(header.extras.items())
        )
        texts.append(f"cast(json_object({pairs}) as varchar) as _extras")
    else:
        texts.append("null::varchar as _extras")
    values.append("_extras")
    # a field of a general record keeps its quotes: drop the outer pair and undouble the ones inside
    unquoted = "f -> case when starts_with(f, '\"') then replace(f[2:-2], '\"\"', '\"') else f end"
    con.execute(
        f"""
        create or replace temp table {staged} as
        with parsed as (
            select
                filename,
                line_number,
                raw_line,
                unterminated,
                case
                    when is_simple then true
                    else regexp_full_match(',' || raw_line, {literal(_RECORD)})
                end as well_formed,
                case
                    -- quotes only wrap whole values and no value holds a comma, so dropping every quote
                    -- and then splitting on commas gives exactly the unquoted values
                    when is_simple then string_split(replace(raw_line, '"', ''), ',')
                    else list_transform(
                        regexp_extract_all(',' || raw_line, {literal(_FIELD)}, 1), {unquoted}
                    )
                end as fields
            from _records
        ),
        valued as (
            select
                filename,
                line_number,
                raw_line,
                unterminated,
                well_formed,
                len(fields) as field_count,
                {", ".join(texts)}
            from parsed
        ),
        typed as (
            select *{"".join(", " + t for t in typed)}
            from valued
        ),
        checked as (
            select
                filename,
                line_number,
                raw_line,
                {", ".join(values)},
                {_reason_sql(table, header)} as reason
            from typed
        )
        -- the original text is kept only where it is needed, for the quarantine
        select * replace (case when reason is not null then raw_line end as raw_line)
        from checked
        """
    )
