{#
  An amount held in minor units (cents) as text in major units with its currency: 11198, 'EUR' ->
  '111.98 EUR'. The number of minor digits is the currency's (ISO 4217): none for JPY, KRW and the like,
  three for BHD, JOD, KWD, OMR, TND, IQD and LYD, two otherwise. Integer arithmetic, so nothing is rounded.
  A null currency prints the amount alone; a null amount gives null.
#}
{% macro format_money(amount_minor, currency) -%}
    {{ return(adapter.dispatch('format_money', 'defection_warehouse')(amount_minor, currency)) }}
{%- endmacro %}

{% macro default__format_money(amount_minor, currency) -%}
    case
        when upper({{ currency }}) in (
            'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI', 'VND', 'VUV',
            'XAF', 'XOF', 'XPF'
        )
            then cast({{ amount_minor }} as {{ dbt.type_string() }})
        when upper({{ currency }}) in ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND')
            then {{ minor_to_major_units(amount_minor, 3) }}
        else {{ minor_to_major_units(amount_minor, 2) }}
    end || coalesce(' ' || {{ currency }}, '')
{%- endmacro %}

{% macro minor_to_major_units(amount_minor, digits) -%}
    case when {{ amount_minor }} < 0 then '-' else '' end
    || cast(cast(floor(abs({{ amount_minor }}) / {{ 10 ** digits }}) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }})
    || '.'
    || lpad(cast(mod(abs({{ amount_minor }}), {{ 10 ** digits }}) as {{ dbt.type_string() }}), {{ digits }}, '0')
{%- endmacro %}
