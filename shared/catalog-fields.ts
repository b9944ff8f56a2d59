/**
 * The Currents fields of each exportable type (name:type, `?` = optional), from Braze's published Currents v10 Avro
 * schemas as listed in the project's reference index. Decoding checks field types against this; connector validation
 * checks `fields.redact` / `fields.hash` names against it. Generated once from the index; edit with the catalogue.
 */
export const CURRENTS_FIELDS: Readonly<Record<string, string>> = {
  'users.behaviors.Uninstall':
    'id:string, user_id:string, external_user_id:string?, device_id:string?, app_id:string, time:int, app_group_id:string?',
  'users.behaviors.app.NewsFeedImpression':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, platform:string?, os_version:string?, device_model:string?, device_id:string?',
  'users.behaviors.subscription.GlobalStateChange':
    'id:string, user_id:string, external_user_id:string?, email_address:string?, state_change_source:string?, subscription_status:string, channel:string?, time:int, timezone:string?, app_group_id:string?, app_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, channel_identifier:string?',
  'users.behaviors.subscriptiongroup.StateChange':
    'id:string, user_id:string, external_user_id:string?, email_address:string?, phone_number:string?, app_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, subscription_group_id:string, subscription_status:string, channel:string?, time:int, timezone:string?, send_id:string?, state_change_source:string?, app_group_id:string?, dispatch_id:string?, channel_identifier:string?',
  'users.campaigns.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, device_id:string?, dispatch_id:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, send_id:string?, time:int, timezone:string?, user_id:string',
  'users.campaigns.Conversion':
    'id:string, user_id:string, external_user_id:string?, app_id:string?, time:int, timezone:string?, campaign_id:string, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, send_id:string?, conversion_behavior_index:int?, conversion_behavior:string?, app_group_id:string?',
  'users.campaigns.EnrollInControl':
    'id:string, user_id:string, external_user_id:string?, app_id:string?, time:int, timezone:string?, campaign_id:string, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, send_id:string?, app_group_id:string?',
  'users.canvas.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, device_id:string?, external_user_id:string?, id:string, time:int, timezone:string?, user_id:string',
  'users.canvas.Conversion':
    'id:string, user_id:string, external_user_id:string?, app_id:string?, time:int, timezone:string?, canvas_id:string, canvas_name:string?, canvas_variation_id:string, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, conversion_behavior_index:int?, conversion_behavior:string?, app_group_id:string?',
  'users.canvas.Entry':
    'id:string, user_id:string, external_user_id:string?, time:int, timezone:string?, canvas_id:string, canvas_name:string?, canvas_variation_id:string, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, in_control_group:boolean, app_group_id:string?',
  'users.canvas.exit.MatchedAudience':
    'id:string, user_id:string, external_user_id:string?, app_group_id:string, app_group_api_id:string?, time:int, canvas_id:string, canvas_variation_id:string, canvas_step_id:string?, canvas_name:string?, canvas_variation_name:string?, canvas_step_name:string?, canvas_api_id:string?, canvas_variation_api_id:string?, canvas_step_api_id:string?',
  'users.canvas.exit.PerformedEvent':
    'id:string, user_id:string, external_user_id:string?, app_group_id:string, app_group_api_id:string?, time:int, canvas_id:string, canvas_variation_id:string, canvas_step_id:string?, canvas_name:string?, canvas_variation_name:string?, canvas_step_name:string?, canvas_api_id:string?, canvas_variation_api_id:string?, canvas_step_api_id:string?',
  'users.canvas.experimentstep.Conversion':
    'id:string, user_id:string, external_user_id:string?, app_id:string?, time:int, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, experiment_step_id:string?, experiment_split_id:string?, experiment_split_name:string?, conversion_behavior_index:int?, conversion_behavior:string?',
  'users.canvas.experimentstep.SplitEntry':
    'id:string, user_id:string, external_user_id:string?, time:int, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, experiment_step_id:string?, canvas_step_id:string?, canvas_step_name:string?, experiment_split_id:string?, experiment_split_name:string?, in_control_group:boolean',
  'users.messages.contentcard.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, device_id:string?, dispatch_id:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, send_id:string?, time:int, timezone:string?, user_id:string',
  'users.messages.contentcard.Click':
    'id:string, user_id:string, external_user_id:string?, content_card_id:string, time:int, app_id:string, send_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_variation_id:string?, canvas_step_id:string?, canvas_variation_name:string?, canvas_step_name:string?, canvas_name:string?, timezone:string?, device_id:string?, platform:string?, os_version:string?, device_model:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.contentcard.Dismiss':
    'id:string, user_id:string, external_user_id:string?, content_card_id:string, time:int, app_id:string, send_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_name:string?, timezone:string?, device_id:string?, platform:string?, os_version:string?, device_model:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.contentcard.Impression':
    'id:string, user_id:string, external_user_id:string?, content_card_id:string, time:int, app_id:string, send_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_name:string?, timezone:string?, device_id:string?, platform:string?, os_version:string?, device_model:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.contentcard.Send':
    'id:string, user_id:string, external_user_id:string?, content_card_id:string, time:int, send_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_name:string?, timezone:string?, device_id:string?, message_extras:string?, app_group_id:string?',
  'users.messages.email.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, device_id:string?, dispatch_id:string?, email_address:string, external_user_id:string?, id:string, ip_pool:string?, message_variation_id:string?, message_variation_name:string?, send_id:string?, time:int, timezone:string?, user_id:string',
  'users.messages.email.Bounce':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, sending_ip:string?, ip_pool:string?, bounce_reason:string?, esp:string?, from_domain:string?, is_drop:boolean?, app_group_id:string?',
  'users.messages.email.Click':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, url:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, user_agent:string?, ip_pool:string?, link_id:string?, link_alias:string?, esp:string?, from_domain:string?, is_amp:boolean?, app_group_id:string?, device_class:string?, device_os:string?, device_model:string?, browser:string?, mailbox_provider:string?, is_suspected_bot_click:boolean?, suspected_bot_click_reason:array<string>?',
  'users.messages.email.Delivery':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, sending_ip:string?, ip_pool:string?, esp:string?, from_domain:string?, app_group_id:string?',
  'users.messages.email.MarkAsSpam':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, user_agent:string?, ip_pool:string?, esp:string?, from_domain:string?, app_group_id:string?',
  'users.messages.email.Open':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, user_agent:string?, ip_pool:string?, machine_open:string?, esp:string?, from_domain:string?, is_amp:boolean?, app_group_id:string?, device_class:string?, device_os:string?, device_model:string?, browser:string?, mailbox_provider:string?',
  'users.messages.email.Send':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, ip_pool:string?, message_extras:string?, app_group_id:string?, from_domain:string?',
  'users.messages.email.SoftBounce':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, sending_ip:string?, ip_pool:string?, bounce_reason:string?, esp:string?, from_domain:string?, app_group_id:string?',
  'users.messages.email.Unsubscribe':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, email_address:string, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, ip_pool:string?, app_group_id:string?',
  'users.messages.inappmessage.Abort':
    'abort_log:string?, abort_type:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?, app_id:string?, browser:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, card_id:string?, carrier:string?, device_id:string?, device_model:string?, dispatch_id:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, os_version:string?, platform:string?, resolution:string?, send_id:string?, time:int, timezone:string?, user_id:string, version:string',
  'users.messages.inappmessage.Click':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, card_id:string?, platform:string?, os_version:string?, device_model:string?, button_id:string?, send_id:string?, device_id:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.inappmessage.Impression':
    'id:string, user_id:string, external_user_id:string?, time:int, timezone:string?, app_id:string, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, card_id:string?, platform:string?, os_version:string?, device_model:string?, send_id:string?, device_id:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?, message_extras:string?, locale_key:string?',
  'users.messages.newsfeedcard.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, app_id:string?, browser:string?, campaign_name:string?, canvas_name:string?, canvas_step_name:string?, canvas_variation_name:string?, card_id:string?, carrier:string?, device_id:string?, device_model:string?, external_user_id:string?, id:string, message_variation_name:string?, os_version:string?, platform:string?, resolution:string?, time:int, timezone:string?, user_id:string',
  'users.messages.newsfeedcard.Click':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, card_id:string, platform:string?, os_version:string?, device_model:string?, device_id:string?',
  'users.messages.newsfeedcard.Impression':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, card_id:string, platform:string?, os_version:string?, device_model:string?, device_id:string?',
  'users.messages.pushnotification.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, app_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, device_id:string?, dispatch_id:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, platform:string, send_id:string?, time:int, timezone:string?, user_id:string',
  'users.messages.pushnotification.Bounce':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, platform:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, dispatch_id:string?, device_id:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, push_token:string?, app_group_id:string?',
  'users.messages.pushnotification.IosForeground':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, platform:string, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, dispatch_id:string?, device_id:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.pushnotification.Open':
    'id:string, user_id:string, external_user_id:string?, time:int, timezone:string?, app_id:string, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, platform:string?, os_version:string?, device_model:string?, send_id:string?, dispatch_id:string?, device_id:string?, button_action_type:string?, button_string:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, app_group_id:string?',
  'users.messages.pushnotification.Send':
    'id:string, user_id:string, external_user_id:string?, app_id:string, time:int, timezone:string?, platform:string, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, dispatch_id:string?, device_id:string?, ad_id:string?, ad_id_type:string?, ad_tracking_enabled:boolean?, message_extras:string?, push_token:string?, app_group_id:string?, locale_key:string?',
  'users.messages.sms.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, subscription_group_id:string?, time:int, user_id:string',
  'users.messages.sms.CarrierSend':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, to_phone_number:string?, subscription_group_id:string?, from_phone_number:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, app_group_id:string?',
  'users.messages.sms.Delivery':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, to_phone_number:string?, subscription_group_id:string?, from_phone_number:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, app_group_id:string?, is_sms_fallback:boolean?',
  'users.messages.sms.DeliveryFailure':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, to_phone_number:string?, subscription_group_id:string?, error:string?, provider_error_code:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, app_group_id:string?, is_sms_fallback:boolean?',
  'users.messages.sms.InboundReceive':
    'id:string, user_id:string?, external_user_id:string?, app_group_id:string, time:int, user_phone_number:string, subscription_group_id:string?, inbound_phone_number:string, action:string, message_body:string, media_urls:array<string?>?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?',
  'users.messages.sms.Rejection':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, to_phone_number:string?, subscription_group_id:string?, from_phone_number:string?, error:string?, provider_error_code:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, app_group_id:string?, is_sms_fallback:boolean?',
  'users.messages.sms.Send':
    'id:string, user_id:string, dispatch_id:string?, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, to_phone_number:string?, subscription_group_id:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, category:string?, message_extras:string?, app_group_id:string?',
  'users.messages.sms.ShortLinkClick':
    'id:string, user_id:string, external_user_id:string?, app_group_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, url:string, short_url:string, user_agent:string?, user_phone_number:string?, is_suspected_bot_click:boolean?, suspected_bot_click_reason:array<string>?',
  'users.messages.webhook.Abort':
    'abort_log:string?, abort_type:string?, app_group_id:string?, campaign_id:string?, campaign_name:string?, canvas_id:string?, canvas_name:string?, canvas_step_id:string?, canvas_step_message_variation_id:string?, canvas_step_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, device_id:string?, dispatch_id:string?, external_user_id:string?, id:string, message_variation_id:string?, message_variation_name:string?, send_id:string?, time:int, timezone:string?, user_id:string',
  'users.messages.webhook.Send':
    'id:string, user_id:string, external_user_id:string?, time:int, timezone:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, send_id:string?, message_extras:string?, app_group_id:string?, dispatch_id:string?',
  'users.messages.whatsapp.Abort':
    'id:string, time:long, to_phone_number:string?, user_id:string, external_user_id:string?, device_id:string?, timezone:string?, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, dispatch_id:string?, abort_type:string?, abort_log:string?, bsuid:string?',
  'users.messages.whatsapp.Delivery':
    'id:string, time:long, to_phone_number:string?, user_id:string, external_user_id:string?, device_id:string?, timezone:string?, from_phone_number:string, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, dispatch_id:string?, send_id:string?, flow_id:string?, template_name:string?, message_id:string?, bsuid:string?',
  'users.messages.whatsapp.Failure':
    'id:string, time:long, to_phone_number:string?, user_id:string, external_user_id:string?, device_id:string?, timezone:string?, from_phone_number:string, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, dispatch_id:string?, provider_error_code:string, provider_error_title:string, send_id:string?, message_id:string?, template_name:string?, flow_id:string?, bsuid:string?',
  'users.messages.whatsapp.InboundReceive':
    'id:string, time:long, user_phone_number:string?, user_id:string?, external_user_id:string?, inbound_phone_number:string, device_id:string?, timezone:string?, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, message_body:string?, quick_reply_text:string?, media_urls:array<string?>?, action:string, catalog_id:string?, product_id:string?, flow_id:string?, flow_response_json:string?, message_id:string?, in_reply_to:string?, bsuid:string?',
  'users.messages.whatsapp.Read':
    'id:string, time:long, to_phone_number:string?, user_id:string, external_user_id:string?, device_id:string?, timezone:string?, from_phone_number:string, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_variation_name:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, dispatch_id:string?, send_id:string?, template_name:string?, message_id:string?, flow_id:string?, bsuid:string?',
  'users.messages.whatsapp.Send':
    'id:string, time:long, to_phone_number:string?, user_id:string, external_user_id:string?, device_id:string?, timezone:string?, from_phone_number:string, app_group_id:string?, subscription_group_id:string?, campaign_id:string?, campaign_name:string?, message_variation_id:string?, message_variation_name:string?, canvas_id:string?, canvas_name:string?, canvas_variation_id:string?, canvas_step_id:string?, canvas_step_name:string?, canvas_step_message_variation_id:string?, dispatch_id:string?, message_extras:string?, send_id:string?, flow_id:string?, template_name:string?, message_id:string?, bsuid:string?',
};

/** An Avro field type as the index writes it (`array<string?>` = an array whose items may be null). */
export type FieldType = 'string' | 'int' | 'long' | 'float' | 'double' | 'boolean' | 'array<string>' | 'array<string?>';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** A union with null in the Avro schema (`?` in the index). */
  readonly optional: boolean;
}

const FIELD_TYPES: ReadonlySet<string> = new Set<FieldType>([
  'string',
  'int',
  'long',
  'float',
  'double',
  'boolean',
  'array<string>',
  'array<string?>',
]);

/** Parses one `name:type, name:type?` list; throws on a type this module does not know (caught by the tests). */
export function parseFieldList(list: string): FieldSpec[] {
  return list.split(',').map((item) => {
    const [name, rawType] = item.trim().split(':') as [string, string | undefined];
    if (!rawType) throw new Error(`field list item '${item.trim()}' has no type`);
    const optional = rawType.endsWith('?');
    const type = optional ? rawType.slice(0, -1) : rawType;
    if (!FIELD_TYPES.has(type)) throw new Error(`field '${name}' has unknown type '${rawType}'`);
    return { name, type: type as FieldType, optional };
  });
}

/** Canonical type → its fields by name (parsed once from CURRENTS_FIELDS). */
export const FIELD_SPECS: ReadonlyMap<string, ReadonlyMap<string, FieldSpec>> = new Map(
  Object.entries(CURRENTS_FIELDS).map(([type, list]) => [type, new Map(parseFieldList(list).map((f) => [f.name, f]))]),
);

/** The fields of one type in index order (empty for a type the catalogue does not know). */
export function fieldsOf(type: string): FieldSpec[] {
  return [...(FIELD_SPECS.get(type)?.values() ?? [])];
}
