"""Quota, balances and rate limits as the relay (new-api) keeps them: one step of the request path.

After authentication and before the handler, ``desk.admit`` refuses what the key or the model may
not do now (quota used up, rate window full, too many in flight) with each format's own refusal;
after the reply it settles what the answer really cost. Balances, windows and gates live in the store,
per namespace; which keys have a quota and which limits hold are read with the namespace, so with
neither the step costs one attribute test.
"""
