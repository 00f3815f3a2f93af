"""People and their work: accounts and who may do what, link workers' plans and referrals,
residents' requests to join, and the e-mail that tells organisers.

    accounts       password rules and hashing, the sign-in throttle, server-side sessions
    permissions    roles and the one table of who may do what
    plans          a link worker's plans for clients, their share links and text messages
    referrals      a link worker's referral records and outcomes, and the demand report
    join_requests  residents' requests to join an activity ("Ask to join")
    mail           e-mail to organisers
"""
