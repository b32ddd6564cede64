{#
  Whole-word matching of a phrase in free text, for vocabularies that classify what people typed (seed
  cancel_reason_vocabulary). Both sides are reduced to lower-case words separated by single spaces, padded
  with a space at each end; a phrase then matches only at word boundaries: 'down' is not found in 'download',
  'moving house' is found in 'Moving-house, sorry!'. Spaces and ASCII punctuation separate words; any other
  character (accented letters included) belongs to a word.

  word_match_text(text) gives that padded form; word_match_position(padded_text, padded_phrase) the 1-based
  position of the first whole-word match in it, 0 when there is none (so the first-mentioned phrase can win).
  The regular expression is the only engine-specific part: one implementation per engine under
  adapter.dispatch.
#}
{% macro word_match_text(text) -%}
    {{ return(adapter.dispatch('word_match_text', 'defection_warehouse')(text)) }}
{%- endmacro %}

{% macro duckdb__word_match_text(text) -%}
    ' ' || trim(regexp_replace(lower({{ text }}), '[[:space:][:punct:]]+', ' ', 'g')) || ' '
{%- endmacro %}

{% macro postgres__word_match_text(text) -%}
    ' ' || trim(regexp_replace(lower({{ text }}), '[[:space:][:punct:]]+', ' ', 'g')) || ' '
{%- endmacro %}

{# Java regular expressions have no POSIX bracket classes; \s and \p{Punct} are the same ASCII sets. #}
{% macro spark__word_match_text(text) -%}
    ' ' || trim(regexp_replace(lower({{ text }}), '[\\s\\p{Punct}]+', ' ')) || ' '
{%- endmacro %}

{% macro default__word_match_text(text) -%}
    {{ exceptions.raise_compiler_error('word_match_text: add ' ~ adapter.type() ~ '__word_match_text for this engine') }}
{%- endmacro %}

{% macro word_match_position(padded_text, padded_phrase) -%}
    {{ dbt.position(padded_phrase, padded_text) }}
{%- endmacro %}
