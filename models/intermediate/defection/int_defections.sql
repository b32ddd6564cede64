with

customer_episodes as (
    select * from {{ ref('int_customer_episodes') }}
),

next_episodes as (
    select customer_id, episode_number - 1 as previous_episode_number
    from customer_episodes
    where episode_number > 1
),

final as (
    select
        {{ dbt.hash(dbt.concat(['customer_episodes.customer_id', "'|'",
            'cast(customer_episodes.episode_number as ' ~ dbt.type_string() ~ ')'])) }} as defection_id,
        customer_episodes.customer_id,
        customer_episodes.episode_number,
        customer_episodes.episode_started_at,
        customer_episodes.episode_ended_at as defected_at,
        cast(customer_episodes.episode_ended_at as date) as defected_date,
        customer_episodes.defection_type,
        customer_episodes.cancel_reason_code,
        customer_episodes.reason_category,
        customer_episodes.stated_silo,
        customer_episodes.is_win_back as is_after_win_back,
        next_episodes.customer_id is not null as is_won_back_later,
        cast({{ dbt.datediff('customer_episodes.episode_started_at', 'customer_episodes.episode_ended_at',
            'day') }} as integer) as tenure_days
    from customer_episodes
    left join next_episodes
        on customer_episodes.customer_id = next_episodes.customer_id
        and customer_episodes.episode_number = next_episodes.previous_episode_number
    where customer_episodes.is_defection
)

select * from final
