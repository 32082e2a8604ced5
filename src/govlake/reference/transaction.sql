-- Transaction (公共资源交易, govlake.transform.transaction): projects, sections, bids, awards and
-- contracts. Each fact below the project carries its project's context (code, 交易类别, 交易方式,
-- notice date), read off the fact above it; a record whose parent is withheld has none (NULL).

INSERT INTO core.fct_tender_project BY NAME
SELECT p.* EXCLUDE (sequence_number, exported_at), tenderer.entity_id AS tenderer_entity_id,
    flagged(p.dq_flags, 'tenderer_uscc_org_code') AS flag_tenderer_uscc_org_code
FROM transaction_projects AS p
LEFT JOIN entity_of('transaction.projects', 'tenderer') AS tenderer
    ON tenderer.record_key = p.project_id;

INSERT INTO core.fct_tender_section BY NAME
SELECT s.* EXCLUDE (sequence_number, exported_at),
    p.project_code, p.category, p.method, p.published_on AS project_published_on,
    flagged(s.dq_flags, 'few_bidders') AS flag_few_bidders,
    flagged(s.dq_flags, 'short_bidding_period') AS flag_short_bidding_period
FROM transaction_sections AS s
LEFT JOIN core.fct_tender_project AS p USING (project_id);

-- A section's context as the facts below it carry it.
CREATE OR REPLACE TEMP VIEW section_context AS
SELECT section_id, section_code, project_id, project_code, category, method, project_published_on
FROM core.fct_tender_section;

-- A bid's bidder (投标人) and agent (授权代表, a person: no ID number) as entities.
INSERT INTO core.fct_bid BY NAME
SELECT b.* EXCLUDE (agent_id_number, sequence_number, exported_at),
    section_context.* EXCLUDE (section_id),
    bidder.entity_id AS bidder_entity_id, agent.entity_id AS agent_entity_id,
    flagged(b.dq_flags, 'shared_bid_agent') AS flag_shared_bid_agent
FROM transaction_bids AS b
LEFT JOIN section_context USING (section_id)
LEFT JOIN entity_of('transaction.bids', 'bidder') AS bidder ON bidder.record_key = b.bid_id
LEFT JOIN entity_of('transaction.bids', 'agent') AS agent ON agent.record_key = b.bid_id;

-- An award with its section's budget (最高限价: what award_above_budget compares).
INSERT INTO core.fct_award BY NAME
SELECT a.* EXCLUDE (sequence_number, exported_at),
    section_context.* EXCLUDE (section_id), s.budget_wan AS section_budget_wan,
    winner.entity_id AS winner_entity_id,
    flagged(a.dq_flags, 'award_above_budget') AS flag_award_above_budget
FROM transaction_awards AS a
LEFT JOIN section_context USING (section_id)
LEFT JOIN core.fct_tender_section AS s USING (section_id)
LEFT JOIN entity_of('transaction.awards', 'winner') AS winner ON winner.record_key = a.award_id;

-- A contract with its award's context, winner, amount and notice date (what
-- contract_above_award and late_contract compare).
INSERT INTO core.fct_contract BY NAME
SELECT c.* EXCLUDE (sequence_number, exported_at),
    a.section_id, a.section_code, a.project_id, a.project_code, a.category, a.method,
    a.project_published_on, a.winner_entity_id, a.award_amount_wan,
    a.published_on AS award_published_on,
    flagged(c.dq_flags, 'late_contract') AS flag_late_contract,
    flagged(c.dq_flags, 'contract_above_award') AS flag_contract_above_award
FROM transaction_contracts AS c
LEFT JOIN core.fct_award AS a USING (award_id);
