"""The configuration blocks of the seed document (../shared/seed/fortigate-sip-alg-and-session-helper.txt),
verbatim as an operator pastes them (its prompts and indentation included), for the tests that apply
them through the control socket and check what they do to SIP."""

SEED_ALG_1 = '''    config system settings
        set default-voip-alg-mode proxy-based
    end
    config voip profile
        edit "sip-alg-profile"
            set feature-set voipd
            config sip
                set status enable
            end
        next
    end
    config firewall policy
        edit 0
            set name "VoIP-Proxy"
            set utm-status enable
            set voip-profile "sip-alg-profile"
        next
    end
'''
SEED_ALG_2 = SEED_ALG_1.replace('set default-voip-alg-mode proxy-based', 'set default-voip-alg-mode kernel-helper-based')
SEED_ALG_3 = '''    config system settings
        set default-voip-alg-mode proxy-based
    end
    config firewall policy
        edit 0
            set name "VoIP-Proxy"
            set utm-status enable
            set voip-profile ""
        next
    end
'''
SEED_HELPER_1 = '''    config system settings
        set default-voip-alg-mode kernel-helper-based
    end
    config firewall policy
        edit 0
            set name "VoIP-session-helper"
            set utm-status enable
            set voip-profile ""
        next
    end
    config system session-helper
        edit 13
            set name sip
            set protocol 17
            set port 5060
        next
    end
'''
SEED_HELPER_2 = '''    config system settings
        set default-voip-alg-mode {proxy-based | kernel-helper-based}
    end 
    config voip profile
        edit "sip-disabled-profile"
            set feature-set voipd
            config sip
                set status disable
            end
        next
    end
    config firewall policy
        edit 0
            set name "VoIP-session-helper"
            set utm-status enable
            set voip-profile "sip-disabled-profile"
        next
    end
    config system session-helper
        edit 13
            set name sip
            set protocol 17
            set port 5060
        next
    end
'''
SEED_HELPER_3 = '''    # show system session-helper
    config system session-helper
        delete 13
    end
    config system settings
        set default-voip-alg-mode kernel-helper-based
    end
    # show firewall policy 1
    config firewall policy
        edit 1
            set name "voip to internet"
            set srcintf "port1" 
            set dstintf "wan1"
            set action accept
            set srcaddr "all"
            set dstaddr "all"
            set schedule "always"
            set service "ALL"
            set utm-status enable
            set voip-profile "default"
            set logtraffic all
            set nat enable
        next
    end
      config voip profile
          edit default
              config sip
                  set status disable
                  set rtp disable
              end
          next
      end
      config firewall policy
          edit 1
              unset voip-profile 
          next
      end
    # diagnose sys session filter dport 5060
    # diagnose sys session clear
    # diagnose sys session filter sport 5060
    # diagnose sys session clear
'''
SEED_PORTS_1 = '''config firewall policy
    edit 0
        set name "VoIP-Proxy"
    next
end
config system settings
    set sip-tcp-port 5064
    set sip-udp-port 5065
    set sip-ssl-port 5066
end
'''
SEED_PORTS_2 = '''config firewall policy
    edit 0
        set name "VoIP-Proxy"
    next
end
config system settings
    set sip-tcp-port 5060 5064
    set sip-udp-port 5061 5065
end
config system session-helper
    edit 13
        set name sip
        set protocol 17
        set port 5065
    next
end
config system session-helper
    edit 0
        set name sip
        set port 5064
    next
end
'''
KERNEL = 'config system settings\n    set default-voip-alg-mode kernel-helper-based\nend\n'
