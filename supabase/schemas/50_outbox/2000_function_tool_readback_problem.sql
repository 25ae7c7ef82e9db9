-- What is wrong with a read-back declaration (internal.tool_readbacks), as a phrase, or NULL
-- when nothing is. With p_raise_as the problem is raised instead (23514, "<p_raise_as>:
-- <problem>"): the form the table's CHECK uses, so the error names what is wrong. The drain
-- parses the same declaration again with zod before it uses one (reconcile_policy.ts).
--
-- References are JSON pointers (RFC 6901) into the envelope as the drain sees it:
-- {"id": …, "external_id": …, "arguments": {…}}; a reference is the object {"$ref": "<pointer>"}
-- and nothing else. No expression is ever evaluated.
create function internal.tool_readback_problem(
  p_read_arguments jsonb,
  p_match jsonb,
  p_marker_argument text,
  p_raise_as text default null
) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  -- A JSON pointer, and one that names an envelope field.
  v_pointer constant text := '^(/([^~/]|~[01])*)*$';
  v_ref constant text := '^/(id|external_id|arguments(/([^~/]|~[01])*)*)$';
  v_problem text;
  v_bad jsonb;
begin
  if jsonb_typeof(p_read_arguments) is distinct from 'object' then
    v_problem := 'read_arguments must be a JSON object';
  else
    select x.v into v_bad
      from jsonb_path_query(p_read_arguments, 'strict $.**') as x (v)
     where jsonb_typeof(x.v) = 'object' and x.v ? '$ref'
       and not ((select count(*) from jsonb_object_keys(x.v)) = 1
                and jsonb_typeof(x.v -> '$ref') = 'string'
                and x.v ->> '$ref' ~ v_ref)
     limit 1;
    if v_bad is not null then
      v_problem := pg_catalog.format(
        'read_arguments: %s is not a reference; write {"$ref": "/id"}, "/external_id" or '
        || '"/arguments/<pointer>"', v_bad::text);
    end if;
  end if;

  if v_problem is null then
    if jsonb_typeof(p_match) is distinct from 'object' then
      v_problem := 'match must be a JSON object {items, field, value, mode}';
    elsif exists (select from jsonb_object_keys(p_match) k
                   where k not in ('items', 'field', 'value', 'mode')) then
      v_problem := 'match takes only items, field, value and mode';
    elsif jsonb_typeof(p_match -> 'items') is distinct from 'string'
          or p_match ->> 'items' !~ v_pointer then
      v_problem := 'match.items must be a JSON pointer to the list in the read''s answer, '
                   || 'e.g. "/data/issues"';
    elsif jsonb_typeof(p_match -> 'field') is distinct from 'string'
          or p_match ->> 'field' !~ v_pointer then
      v_problem := 'match.field must be a JSON pointer into each item, e.g. "/body"';
    elsif jsonb_typeof(p_match -> 'value') is distinct from 'object'
          or (select count(*) from jsonb_object_keys(p_match -> 'value')) <> 1
          or jsonb_typeof(p_match -> 'value' -> '$ref') is distinct from 'string'
          or p_match -> 'value' ->> '$ref' !~ v_ref then
      v_problem := 'match.value must be a reference to the envelope, {"$ref": "/external_id"}, '
                   || '"/id" or "/arguments/<pointer>"';
    elsif coalesce(p_match ->> 'mode', '') not in ('equals', 'contains') then
      v_problem := 'match.mode must be equals or contains';
    elsif p_marker_argument is not null and p_marker_argument !~ '^(/([^~/]|~[01])*)+$' then
      v_problem := 'marker_argument must be a JSON pointer into the write''s arguments, '
                   || 'e.g. "/body"';
    elsif p_marker_argument is null and p_match -> 'value' ->> '$ref' in ('/id', '/external_id')
    then
      -- Absence of an item proves nothing unless the write's arguments carry the value.
      v_problem := 'marker_argument must name the write''s argument that carries '
                   || (p_match -> 'value' ->> '$ref');
    end if;
  end if;

  if v_problem is not null and p_raise_as is not null then
    raise exception '%: %', p_raise_as, v_problem using errcode = '23514';
  end if;
  return v_problem;
end
$$;
revoke execute on function internal.tool_readback_problem(jsonb, jsonb, text, text) from public;
comment on function internal.tool_readback_problem(jsonb, jsonb, text, text) is
  'Why a read-back declaration is unusable (a phrase), NULL when it is usable; with p_raise_as raised as 23514 "<p_raise_as>: <problem>" (the CHECK form). read_arguments: a JSON object whose {"$ref": pointer} values name /id, /external_id or /arguments/…; match: {items, field: JSON pointers, value: such a reference, mode: equals | contains}; marker_argument: a pointer into the write''s arguments, required when match.value is /id or /external_id.';
