-- connected-accounts: the connection flow's catch-up. An owner's app normally calls
-- POST /connected-accounts/refresh after the user comes back from Composio; this schedule
-- confirms the accounts of users who finished the consent but whose app never asked
-- (accounts initiated in the last day). Here, not in 20_tenancy: schema jobs comes later.
select jobs.register('connected-accounts', 30000, 300);
select jobs.schedule('connected-accounts-refresh', '*/5 * * * *', 'connected-accounts', '{}');
