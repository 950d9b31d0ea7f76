//! `kundo campaign …`: create, start and read the results of campaigns from the command line.

use clap::Subcommand;
use kundo_app::campaigns::{CampaignInput, StartLimit};
use kundo_app::{Actor, App};

use crate::describe;

#[derive(Subcommand)]
pub enum CampaignCommand {
    /// Create a draft campaign over a segment (rules: docs/campaigns.md); prints its id.
    Create {
        #[arg(long)]
        name: String,
        /// The segment's id.
        #[arg(long)]
        segment: i64,
        /// Minor units for `amount` (1000 = CHF 10.00), hundredths of a percent for `percent`
        /// (1000 = 10 %).
        #[arg(long)]
        value: i64,
        /// amount or percent.
        #[arg(long, default_value = "percent")]
        value_type: String,
        /// Control group share in basis points (1000 = 10 %).
        #[arg(long, default_value_t = 0)]
        control: i64,
        #[arg(long, default_value_t = 28)]
        validity_days: i64,
        /// Contact channels, comma-separated.
        #[arg(long, default_value = "email,letter", value_delimiter = ',')]
        channels: Vec<String>,
        /// Where the voucher may be redeemed: store, online or both.
        #[arg(long, default_value = "both")]
        voucher_channels: String,
        #[arg(long, default_value_t = 0)]
        min_order: i64,
        /// Seed of the control draw (random if not given).
        #[arg(long)]
        seed: Option<i64>,
    },
    /// Start (or resume) a campaign: snapshot, control group, vouchers, lettershop and email files.
    Start { id: i64 },
    /// Results: redemption, purchase rates, uplift with 95 % intervals, breakdowns (JSON).
    Results { id: i64 },
}

pub async fn run(app: &App, command: CampaignCommand) -> Result<(), String> {
    match command {
        CampaignCommand::Create {
            name,
            segment,
            value,
            value_type,
            control,
            validity_days,
            channels,
            voucher_channels,
            min_order,
            seed,
        } => {
            let input = CampaignInput {
                name,
                segment_id: segment,
                value_type,
                value,
                currency: "CHF".into(),
                min_order,
                validity_days,
                voucher_channels,
                channels,
                control_share_bp: control,
                seed,
                scheduled_at: None,
            };
            let c = app
                .create_campaign(&Actor::cli(), input)
                .await
                .map_err(describe)?;
            println!("{}", c.campaign.id);
            eprintln!("draft campaign, control draw seed {}", c.campaign.seed);
            Ok(())
        }
        CampaignCommand::Start { id } => {
            let bar = crate::progress::spinner("starting the campaign");
            let c = app
                .start_campaign(&Actor::cli(), id, StartLimit::default())
                .await
                .map_err(describe)?;
            bar.finish_and_clear();
            let c = c.campaign;
            println!(
                "campaign {} {}: {} members ({} target, {} control); {} by email, {} by letter, {} unreachable; {} vouchers, {} letters, {} emails",
                c.id,
                c.state,
                c.members,
                c.target_members,
                c.control_members,
                c.email_members,
                c.letter_members,
                c.unreachable,
                c.vouchers_issued,
                c.letters,
                c.emails
            );
            Ok(())
        }
        CampaignCommand::Results { id } => {
            let r = app.campaign_results(id).await.map_err(describe)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?
            );
            Ok(())
        }
    }
}
