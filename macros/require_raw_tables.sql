{#
  on-run-start check (dbt_project.yml): `dbt build`, `dbt run` or `dbt test` on a warehouse where the loader
  has not landed the raw tables yet stops with one line saying what to do, instead of failing deep inside the
  first staging model. Seeds, compile, docs and parse are not affected.
#}
{% macro require_raw_tables() %}
  {% if execute and flags.WHICH in ('build', 'run', 'test') %}
    {% set missing = [] %}
    {% for source in graph.sources.values() if source.source_name == 'loader' %}
      {% set relation = adapter.get_relation(database=source.database, schema=source.schema, identifier=source.identifier) %}
      {% if relation is none %}
        {% do missing.append(source.schema ~ '.' ~ source.identifier) %}
      {% endif %}
    {% endfor %}
    {% if missing and target.type == 'duckdb' %}
      {{ exceptions.raise_compiler_error(
          "No raw tables in the warehouse " ~ target.path ~ " (missing " ~ missing | join(', ') ~ "): "
          ~ "load the exports first, e.g. `python -m raw.load --exports data/exports --warehouse "
          ~ target.path ~ "` or `make demo`, then run dbt again."
      ) }}
    {% elif missing %}
      {{ exceptions.raise_compiler_error(
          "No raw tables on the " ~ target.name ~ " target (missing " ~ missing | join(', ') ~ "): "
          ~ "load the exports into the DuckDB file (`python -m raw.load`), land them for this engine "
          ~ "(`python -m raw.lake " ~ ('parquet' if target.type == 'spark' else 'postgres') ~ "`), "
          ~ "then run dbt again."
      ) }}
    {% endif %}
  {% endif %}
{% endmacro %}
